import type { Config } from '@roster/config';
import { openDatabase } from '@roster/db';
import { installWorkerSchema } from '@roster/engine';

/** `roster migrate`: applies pending migrations (embedded Postgres or DATABASE_URL), then exits. */
export async function migrateCommand(config: Config, say: (line: string) => void): Promise<void> {
  const database = await openDatabase(config, undefined, { afterMigrate: installWorkerSchema });
  await database.stop();
  say('✓ Migrations applied');
}
