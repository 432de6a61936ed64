import path from 'node:path';
import type { Config } from '@roster/config';
import { appUrlFor } from './connection-urls.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { loadOrCreateLocalCredentials } from './local-credentials.js';
import { type MigrateOptions, migrate } from './migrate.js';

export interface OpenDatabase {
  /** Owner URL: migrations and operator tasks only. */
  ownerUrl: string;
  /** Runtime URL (roster_app, subject to RLS): everything else. */
  appUrl: string;
  /** True when Roster started the Postgres itself. */
  embedded: boolean;
  /** Stops the embedded Postgres (no-op for DATABASE_URL). */
  stop(): Promise<void>;
}

/**
 * DATABASE_URL when set; otherwise a real embedded Postgres under ROSTER_HOME/pg, initialised on
 * first use and reused after. Migrates either way, then hands back both URLs.
 */
export async function openDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'DATABASE_APP_PASSWORD' | 'ROSTER_HOME' | 'ROSTER_PG_PORT'>,
  log: (line: string) => void = () => {},
  options: Pick<MigrateOptions, 'afterMigrate'> = {},
): Promise<OpenDatabase> {
  const home = path.resolve(config.ROSTER_HOME);
  const local = await loadOrCreateLocalCredentials(home);
  const appPassword = config.DATABASE_APP_PASSWORD ?? local.appPassword;
  if (config.DATABASE_URL) {
    await migrate(config.DATABASE_URL, { appPassword, ...options });
    return {
      ownerUrl: config.DATABASE_URL,
      appUrl: appUrlFor(config.DATABASE_URL, appPassword),
      embedded: false,
      stop: async () => {},
    };
  }
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(home, 'pg'),
    port: config.ROSTER_PG_PORT,
    password: local.postgresPassword,
    log,
  });
  try {
    await migrate(pg.url, { appPassword, ...options });
  } catch (err) {
    await pg.stop();
    throw err;
  }
  return {
    ownerUrl: pg.url,
    appUrl: appUrlFor(pg.url, appPassword),
    embedded: true,
    stop: () => pg.stop(),
  };
}
