import { randomUUID } from 'node:crypto';
import type { WorkflowDefinitionInput } from '@roster/core';
import type { Pool } from '@roster/db';
import { type ExecutorCall, ExecutorRegistry, getRun, StepFailure } from '@roster/engine';

/** Publishes `definition` as version 1 of a new workflow (as the owner: setup only). */
export async function createWorkflow(
  ownerPool: Pool,
  tenantId: string,
  definition: WorkflowDefinitionInput,
): Promise<string> {
  const id = randomUUID();
  await ownerPool.query(
    'INSERT INTO workflows (tenant_id, id, name, latest_version) VALUES ($1, $2, $3, 1)',
    [tenantId, id, `wf-${id.slice(0, 8)}`],
  );
  await ownerPool.query(
    'INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition) VALUES ($1, $2, 1, $3)',
    [tenantId, id, definition],
  );
  return id;
}

/**
 * A side-effect ledger that behaves like a third party: it records every call, and applies the
 * effect once per idempotency key. Lives in the test database only (never in migrations).
 */
export async function installLedger(ownerPool: Pool): Promise<void> {
  await ownerPool.query(`
    CREATE TABLE IF NOT EXISTS ledger_calls (id bigserial PRIMARY KEY, key text NOT NULL, run_id uuid NOT NULL,
      step_id text NOT NULL, attempt int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
    CREATE TABLE IF NOT EXISTS ledger_effects (key text PRIMARY KEY, run_id uuid NOT NULL, step_id text NOT NULL);
    GRANT SELECT, INSERT ON ledger_calls, ledger_effects TO roster_app;
    GRANT USAGE ON SEQUENCE ledger_calls_id_seq TO roster_app;
  `);
}

export async function recordLedgerCall(pool: Pool, call: ExecutorCall): Promise<void> {
  await pool.query(
    `WITH c AS (INSERT INTO ledger_calls (key, run_id, step_id, attempt) VALUES ($1, $2, $3, $4))
     INSERT INTO ledger_effects (key, run_id, step_id) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`,
    [call.idempotencyKey, call.runId, call.stepId, call.attempt],
  );
}

/**
 * A connector executor driven by the action name: `ledger` records the call; `flaky` fails with
 * RATE_LIMITED while `failures[key]` > 0; `fatal` fails with BAD_USER_INPUT; `slow` sleeps.
 */
export function testExecutors(pool: Pool, failures: Map<string, number> = new Map()) {
  return new ExecutorRegistry().registerConnector(async (call) => {
    await recordLedgerCall(pool, call);
    const left = failures.get(call.stepId) ?? 0;
    if (call.step.action === 'flaky' && left > 0) {
      failures.set(call.stepId, left - 1);
      throw new StepFailure('RATE_LIMITED', 'try later');
    }
    if (call.step.action === 'fatal')
      throw new StepFailure('BAD_USER_INPUT', 'no', { fatal: true });
    if (call.step.action === 'slow') {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    return { output: { ok: true, step: call.stepId, input: call.input ?? null } };
  });
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
  what = 'condition',
  everyMs = 25,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const value = await probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The statuses a run ends in. */
export const ENDED = ['succeeded', 'failed', 'dead_lettered', 'cancelled'];

/** The run once it reaches one of `statuses` (by default, once it has ended). */
export function runReaching(
  appPool: Pool,
  tenantId: string,
  runId: string,
  { statuses = ENDED, timeoutMs = 20_000 }: { statuses?: string[]; timeoutMs?: number } = {},
) {
  return waitFor(
    async () => {
      const run = await getRun(appPool, tenantId, runId);
      return statuses.includes(run.status) ? run : undefined;
    },
    timeoutMs,
    `run ${runId} to reach ${statuses.join('/')}`,
  );
}

/** The id of the run's open review task, once the run has opened one (read as the owner). */
export function openReviewTask(
  ownerPool: Pool,
  runId: string,
  timeoutMs = 20_000,
): Promise<string> {
  return waitFor(
    async () => {
      const { rows } = await ownerPool.query(
        `SELECT id FROM review_tasks WHERE run_id = $1 AND status = 'open'`,
        [runId],
      );
      return rows[0]?.id as string | undefined;
    },
    timeoutMs,
    `an open review task of run ${runId}`,
  );
}

/** A seeded PRNG (mulberry32), so a chaos schedule can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
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
