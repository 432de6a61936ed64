import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DbError, migrate, startEmbeddedPostgres } from './index.js';

const root = await mkdtemp(path.join(tmpdir(), 'roster-embedded-'));
afterAll(() => rm(root, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('embedded Postgres', () => {
  it('initialises once, keeps the data across a restart, and migrates idempotently from two processes at once', async () => {
    const dataDir = path.join(root, 'reuse', 'pg');
    const port = await freePort();
    const first = await startEmbeddedPostgres({
      dataDir,
      port,
      password: 'first-secret',
      durable: false,
    });
    await Promise.all([
      migrate(first.url, { appPassword: 'app-password-1' }),
      migrate(first.url, { appPassword: 'app-password-1' }),
    ]);
    await query(first.url, `INSERT INTO tenants (slug, name) VALUES ('kept', 'Kept')`);
    await first.stop();

    const second = await startEmbeddedPostgres({
      dataDir,
      port,
      password: 'first-secret',
      durable: false,
    });
    try {
      await migrate(second.url);
      const { rows } = await query(second.url, 'SELECT slug FROM tenants');
      expect(rows.map((r) => r.slug)).toEqual(['kept']);
      const applied = await query(
        second.url,
        'SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations',
      );
      const journal = (
        await import('../../../db/migrations/meta/_journal.json', { with: { type: 'json' } })
      ).default;
      expect(applied.rows[0].n).toBe(journal.entries.length);
    } finally {
      await second.stop();
    }
  });

  it('says clearly when its port is taken', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => {
        const address = blocker.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      }),
    );
    try {
      const error = await startEmbeddedPostgres({
        dataDir: path.join(root, 'busy'),
        port,
        password: 'x',
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DbError);
      expect((error as DbError).code).toBe('PG_PORT_IN_USE');
      expect((error as DbError).message).toContain(`Port ${port}`);
      expect((error as DbError).message).toContain('ROSTER_PG_PORT');
    } finally {
      blocker.close();
    }
  });

  it('refuses a data directory that holds something else', async () => {
    const dataDir = path.join(root, 'foreign');
    await mkdir(dataDir, { recursive: true });
    await writeFile(path.join(dataDir, 'notes.txt'), 'not a database');
    const error = await startEmbeddedPostgres({
      dataDir,
      port: await freePort(),
      password: 'x',
    }).catch((e: unknown) => e);
    expect((error as DbError).code).toBe('PG_DATA_DIR_INVALID');
    expect((error as DbError).message).toContain('not a Postgres data directory');
  });
});
