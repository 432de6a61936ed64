import { createServer } from 'node:net';
import { TRANSITION_LANES } from '@roster/engine';
import { createTestDatabase } from '@roster/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { testExecutors } from '../test/fixtures.js';
import { runWorkerPool } from './worker-pool.js';

const db = await createTestDatabase();
afterAll(() => db.drop());

/** A loopback port that nothing listens on. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('starting a worker pool', () => {
  it('opens the connections of its transition lanes and its listener as it starts', async () => {
    const worker = await runWorkerPool({ appUrl: db.appUrl, executors: testExecutors(db.appPool) });
    try {
      // Before any job: the first transitions find their connections open, and do not wait for
      // a connection and its SCRAM exchange while their steps' runs are waiting.
      const { rows } = await db.ownerPool.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'roster-worker'`,
      );
      expect(rows[0].n).toBeGreaterThanOrEqual(TRANSITION_LANES + 1);
    } finally {
      await worker.stop();
    }
  });

  it('fails at once, with the connection error, when Postgres cannot be reached', async () => {
    const port = await closedPort();
    const started = performance.now();
    await expect(
      runWorkerPool({
        appUrl: `postgres://roster_app:unused@127.0.0.1:${port}/roster`,
        executors: testExecutors(db.appPool),
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
