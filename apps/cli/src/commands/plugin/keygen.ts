import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { generatePublisherKey, publicKeyOf } from '@roster/plugin-host';

/** Writes `<publisher>.key.json` (secret, mode 0600) and `<publisher>.pub.json`. */
export async function keygen(
  publisher: string,
  options: { out?: string },
  say: (line: string) => void,
): Promise<{ privateFile: string; publicFile: string }> {
  const key = generatePublisherKey(publisher);
  const dir = resolve(options.out ?? '.');
  const privateFile = join(dir, `${publisher}.key.json`);
  const publicFile = join(dir, `${publisher}.pub.json`);
  // 'wx': never overwrite an existing key (that would orphan every package signed with it).
  await writeFile(privateFile, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  await writeFile(publicFile, `${JSON.stringify(publicKeyOf(key), null, 2)}\n`, { flag: 'wx' });
  say(`Key ${key.keyId} for publisher ${publisher}`);
  say(`  secret: ${privateFile} (keep it out of version control)`);
  say(`  public: ${publicFile} (hosts trust this one)`);
  return { privateFile, publicFile };
}
