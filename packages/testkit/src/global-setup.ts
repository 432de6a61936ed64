import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { migrate, type RunningPostgres, startEmbeddedPostgres, withDatabase } from '@roster/db';
import { installWorkerSchema } from '@roster/engine';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

export interface TestPostgres {
  /** Superuser/owner URL of the server (any database). */
  serverUrl: string;
  /** The migrated database every test file clones. */
  templateDatabase: string;
  /** Password of roster_app on this server. */
  appPassword: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    testPostgres: TestPostgres;
  }
}

/**
 * ONE Postgres for the whole run: the embedded one (fsync off, thrown away after), or the server
 * in DATABASE_URL. Migrates a template database once; files clone it (createTestDatabase).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let running: RunningPostgres | undefined;
  let dataRoot: string | undefined;
  // Test harness only: the one place outside packages/config that reads the environment,
  // because it runs before any app code and decides which Postgres the tests use.
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    dataRoot = await mkdtemp(path.join(tmpdir(), 'roster-test-pg-'));
    running = await startEmbeddedPostgres({
      dataDir: path.join(dataRoot, 'pg'),
      port: await freePort(),
      password: randomBytes(12).toString('hex'),
      durable: false,
    });
    serverUrl = running.url;
  }
  const templateDatabase = `roster_template_${randomBytes(4).toString('hex')}`;
  const appPassword = randomBytes(12).toString('hex');
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${templateDatabase}`);
  await migrate(withDatabase(serverUrl, templateDatabase), {
    appPassword,
    afterMigrate: installWorkerSchema,
  });
  await admin.end();
  project.provide('testPostgres', { serverUrl, templateDatabase, appPassword });

  return async () => {
    if (running) {
      await running.stop();
    } else {
      const cleanup = new pg.Client({ connectionString: serverUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${templateDatabase} WITH (FORCE)`);
      await cleanup.end();
    }
    if (dataRoot) await rm(dataRoot, { recursive: true, force: true });
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
