import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { newPoolToken } from '@roster/inference';

/** The demo runner pool's token: made once, kept in ROSTER_HOME/demo-runner.token (0600). */
export async function loadOrCreateDemoRunnerToken(home: string): Promise<string> {
  const file = path.join(path.resolve(home), 'demo-runner.token');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
  const token = newPoolToken();
  await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return token;
}
