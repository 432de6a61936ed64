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
});
