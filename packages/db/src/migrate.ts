import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate as drizzleMigrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { APP_ROLE } from './connection-urls.js';
import { DbError } from './errors.js';

/** db/migrations at the repository root: drizzle-kit output plus hand-written SQL. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../db/migrations', import.meta.url));

// One key for the whole cluster's migrations: two processes migrating at once take turns.
const MIGRATION_LOCK_KEY = 7_316_500_001;

export interface MigrateOptions {
  /** When given, roster_app may log in with this password (set on every run, so it can rotate). */
  appPassword?: string;
  migrationsDir?: string;
  /**
   * Runs after the SQL migrations, as the owner and under the same lock: schemas that another
   * library installs itself (the engine installs graphile-worker's). Default: none.
   */
  afterMigrate?: (ownerUrl: string) => Promise<void>;
}

/**
 * Applies pending migrations as the owner. Safe to run twice and from several processes at once:
 * an advisory lock serialises them, and applied migrations are skipped.
 */
export async function migrate(ownerUrl: string, options: MigrateOptions = {}): Promise<void> {
  const client = new pg.Client({ connectionString: ownerUrl, application_name: 'roster-migrate' });
  try {
    await client.connect();
  } catch (cause) {
    throw new DbError(
      'PG_UNREACHABLE',
      `Cannot connect to Postgres to migrate: ${(cause as Error).message}`,
      {},
      { cause },
    );
  }
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await drizzleMigrate(drizzle({ client }), {
        migrationsFolder: options.migrationsDir ?? MIGRATIONS_DIR,
      });
    } catch (cause) {
      throw new DbError(
        'MIGRATION_FAILED',
        `Migration failed: ${(cause as Error).message}`,
        {},
        { cause },
      );
    }
    if (options.afterMigrate) {
      try {
        await options.afterMigrate(ownerUrl);
      } catch (cause) {
        throw new DbError(
          'MIGRATION_FAILED',
          `Migration step after the SQL migrations failed: ${(cause as Error).message}`,
          {},
          { cause },
        );
      }
    }
    if (options.appPassword !== undefined) {
      await client.query(
        `ALTER ROLE ${APP_ROLE} WITH LOGIN PASSWORD ${client.escapeLiteral(options.appPassword)}`,
      );
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    await client.end();
  }
}
