import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { migrate, startEmbeddedPostgres } from '@roster/db';
import pg from 'pg';

export interface BenchPostgres {
  ownerUrl: string;
  appPassword: string;
  version: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/**
 * The Postgres a production user would have (fsync and synchronous_commit on): the embedded one
 * in a temp dir, or DATABASE_URL. Migrated, with roster_app's password set.
 */
export async function startBenchPostgres(databaseUrl: string | undefined): Promise<BenchPostgres> {
  const appPassword = randomBytes(12).toString('hex');
  let stop = async () => {};
  let ownerUrl = databaseUrl;
  if (!ownerUrl) {
    const dir = await mkdtemp(path.join(tmpdir(), 'roster-bench-pg-'));
    const running = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'pg'),
      port: await freePort(),
      password: 'bench',
      durable: true,
    });
    ownerUrl = running.url;
    stop = async () => {
      await running.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }
  await migrate(ownerUrl, { appPassword });
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  const version = (await client.query('SHOW server_version')).rows[0].server_version as string;
  await client.end();
  return { ownerUrl, appPassword, version, stop };
}
