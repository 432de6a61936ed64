import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The master key for a single machine that sets no ROSTER_MASTER_KEY: 32 random bytes (base64),
 * generated once in ROSTER_HOME/master.key (mode 0600) and read by every process of `roster up`
 * (API and workers alike). Production sets ROSTER_MASTER_KEY (or a KMS-backed KeyProvider).
 */
export async function loadOrCreateLocalMasterKey(home: string): Promise<string> {
  const file = path.join(path.resolve(home), 'master.key');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
  const key = randomBytes(32).toString('base64');
  try {
    await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (err) {
    // Two processes raced to create it: the winner's key is the one.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      return (await readFile(file, 'utf8')).trim();
    throw err;
  }
}
