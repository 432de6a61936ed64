import { readFile } from 'node:fs/promises';
import { compilePolicy, type Policy } from './compile-policy.js';
import { AuthzError } from './errors.js';

/** The one IO function of this package: reads the policy file and compiles it. */
export async function loadPolicyFile(path: string): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new AuthzError(
      'POLICY_FILE_UNREADABLE',
      `Cannot read the policy file ${path}; check the path passed in configuration.`,
      { path },
      { cause },
    );
  }
  return compilePolicy(text);
}
