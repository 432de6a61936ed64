import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '@roster/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { createPool } from './index.js';

const db = await createTestDatabase();
afterAll(() => db.drop());

describe('createPool', () => {
  it('survives the server dropping a connection that is checked out (a Postgres restart)', async () => {
    const pool = createPool(db.appUrl, { max: 2 });
    const client = await pool.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await db.ownerPool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
    // pg emits 'error' on the client when its socket closes; unheard, that would be an uncaught
    // exception in this process. The caller sees the failure on its next query instead.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expect(client.query('SELECT 1')).rejects.toThrow();
    client.release(true);
    // The pool goes on with a fresh connection.
    expect((await pool.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
    await pool.end();
  });

  it('keeps an idle connection, and its warm backend, past pg’s default idle timeout of 10 s', {
    timeout: 30_000,
  }, async () => {
    // A new backend compiles and plans the engine's PL/pgSQL again: a run started after a quiet
    // spell paid 50–60 ms for it when pg closed idle connections after 10 s.
    const pool = createPool(db.appUrl, { max: 1 });
    const pid = async () =>
      (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    const before = await pid();
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    expect(await pid()).toBe(before);
    await pool.end();
  });

  it('closes idle connections after the timeout it is given', async () => {
    const pool = createPool(db.appUrl, { max: 1, idleTimeoutMs: 100 });
    await pool.query('SELECT 1');
    expect(pool.totalCount).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(pool.totalCount).toBe(0);
    await pool.end();
  });

  it('lets a process exit while its pool holds idle connections', () => {
    // A command that forgot to end its pool still ends, rather than waiting out the idle timeout.
    const entry = fileURLToPath(new URL('./index.ts', import.meta.url));
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        '@swc-node/register/esm-register',
        '--input-type=module',
        '-e',
        `const { createPool } = await import(${JSON.stringify(entry)});
         const pool = createPool(${JSON.stringify(db.appUrl)}, { max: 1 });
         await pool.query('SELECT 1');
         console.log('queried');`,
      ],
      // Well short of pg's old default idle timeout (10 s), let alone this pool's.
      { encoding: 'utf8', timeout: 10_000 },
    );
    expect(child.stdout.trim()).toBe('queried');
    expect(child.status).toBe(0);
  });
});
