import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface LocalCredentials {
  /** Superuser password of the embedded Postgres. */
  postgresPassword: string;
  /** Password of the runtime role roster_app, when DATABASE_APP_PASSWORD is not set. */
  appPassword: string;
}

/**
 * Passwords generated once per ROSTER_HOME and kept in a 0600 file beside the data, so a laptop
 * needs no configuration and a second start reuses them.
 */
export async function loadOrCreateLocalCredentials(home: string): Promise<LocalCredentials> {
  const file = path.join(home, 'credentials.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LocalCredentials;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const credentials: LocalCredentials = {
    postgresPassword: randomBytes(18).toString('base64url'),
    appPassword: randomBytes(18).toString('base64url'),
  };
  await mkdir(home, { recursive: true, mode: 0o755 });
  await writeFile(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return credentials;
}
