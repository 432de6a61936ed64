import { createPool } from '@roster/db';
import { runMigrations } from 'graphile-worker';
import { EngineError } from './errors.js';
import { quietLogger } from './quiet-logger.js';

/**
 * Installs (or upgrades) graphile-worker's schema as the owner, then grants the runtime role what
 * a worker and an enqueuing transaction need, so roster_app never runs DDL. Pass it to
 * `migrate(ownerUrl, { afterMigrate: installWorkerSchema })`.
 */
export async function installWorkerSchema(ownerUrl: string): Promise<void> {
  try {
    await runMigrations({ connectionString: ownerUrl, logger: quietLogger });
  } catch (cause) {
    throw new EngineError(
      'WORKER_SCHEMA_FAILED',
      `Installing graphile-worker's schema failed: ${(cause as Error).message}. Check that the owner may create schemas in this database.`,
      {},
      { cause },
    );
  }
  const pool = createPool(ownerUrl, { max: 1, applicationName: 'roster-migrate' });
  try {
    // graphile-worker keeps jobs in its private tables and changes them only through its own
    // functions; a worker pool needs DML on them, usage of the sequences and execute.
    await pool.query(`
      GRANT USAGE ON SCHEMA graphile_worker TO roster_app;
      GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA graphile_worker TO roster_app;
      GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA graphile_worker TO roster_app;
      GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA graphile_worker TO roster_app;
    `);
    // graphile-worker turns RLS on for its private tables (no policy: owner only). Job rows hold
    // only ids (see StepJob), so the runtime role's workers may see every job.
    await pool.query(`
      DO $$
      DECLARE t record;
      BEGIN
        FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = 'graphile_worker' AND c.relkind = 'r' AND c.relrowsecurity LOOP
          EXECUTE format('DROP POLICY IF EXISTS roster_app_worker ON graphile_worker.%I', t.relname);
          EXECUTE format('CREATE POLICY roster_app_worker ON graphile_worker.%I TO roster_app USING (true) WITH CHECK (true)', t.relname);
        END LOOP;
      END
      $$;
    `);
  } finally {
    await pool.end();
  }
}
