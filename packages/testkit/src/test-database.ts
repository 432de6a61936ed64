import { randomBytes } from 'node:crypto';
import { appUrlFor, createPool, type Pool, withDatabase } from '@roster/db';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestDatabase {
  name: string;
  /** Owner (superuser in the embedded case): bypasses RLS. For setup and assertions only. */
  ownerUrl: string;
  /** roster_app: what the product uses at runtime, subject to RLS. */
  appUrl: string;
  ownerPool: Pool;
  appPool: Pool;
  /** Closes the pools and drops the database. */
  drop(): Promise<void>;
}

/**
 * A fresh database cloned from the migrated template: each test file gets its own, so files
 * run in parallel without sharing state.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const { serverUrl, templateDatabase, appPassword } = inject('testPostgres');
  const name = `roster_test_${randomBytes(5).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE ${name} TEMPLATE ${templateDatabase}`);
  const ownerUrl = withDatabase(serverUrl, name);
  const appUrl = appUrlFor(ownerUrl, appPassword);
  const ownerPool = createPool(ownerUrl, { max: 4, applicationName: 'roster-test-owner' });
  const appPool = createPool(appUrl, { max: 8, applicationName: 'roster-test-app' });
  return {
    name,
    ownerUrl,
    appUrl,
    ownerPool,
    appPool,
    async drop() {
      await Promise.all([ownerPool.end(), appPool.end()]);
      await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
