import { createPool } from '@roster/db';
import type { AuditTaskOptions } from './audit-tasks.js';
import { loadExecutorModule } from './executors/executor-module.js';
import { startWhenPostgresAnswers } from './start-when-postgres-answers.js';
import { type RunningWorkerPool, runWorkerPool } from './worker-pool.js';

/**
 * Entry of one worker process spawned by the supervisor. Its options arrive over IPC (never
 * from the environment); `executorModule` names a module whose default export builds the
 * ExecutorRegistry from `{ appUrl, createPool }` (the plugin host's and the inference work's, or
 * a test's), or `{ executors, engine }` with the engine options (sealInput) that go with them.
 */
export interface WorkerProcessOptions {
  appUrl: string;
  concurrency?: number;
  maxRunsPerTenant?: number;
  /** How long stop() lets calls in flight finish before aborting them (runWorkerPool). */
  stopGraceMs?: number;
  pollIntervalMs?: number;
  heartbeatMs?: number;
  sweepMs?: number;
  executorModule?: string;
  /** Run callbacks: the operator's egress allow-list (ROSTER_EGRESS_ALLOW) and backoff. */
  callbacks?: { allow?: string[]; backoffMs?: number[] };
  /** The audit signing key (the hourly seal and audit exports run where it is given). */
  audit?: AuditTaskOptions;
}

let running: RunningWorkerPool | undefined;
let exiting = false;

/** Finish the jobs in hand (graphile-worker's graceful stop), then exit. */
async function shutdown(code: number): Promise<void> {
  if (exiting) return;
  exiting = true;
  await running?.stop().catch(() => {});
  process.exit(code);
}

// SIGTERM from the supervisor's stop(); IPC disconnect when the supervisor itself went away
// (even by SIGKILL), so no worker outlives it.
process.once('SIGTERM', () => void shutdown(0));
process.once('SIGINT', () => void shutdown(0));
process.once('disconnect', () => void shutdown(0));

process.once('message', async (message: { type: 'start'; options: WorkerProcessOptions }) => {
  const { executorModule, ...options } = message.options;
  const { executors, engine } = await loadExecutorModule(executorModule, {
    appUrl: options.appUrl,
    createPool,
  });
  if (exiting) return;
  // Started while Postgres restarts (a replacement for a worker that died with it): wait for it
  // rather than exit and be replaced again.
  const pool = await startWhenPostgresAnswers(
    () => runWorkerPool({ ...engine, ...options, executors }),
    { stopped: () => exiting },
  );
  if (!pool) return;
  running = pool;
  if (exiting) {
    await pool.stop().catch(() => {});
    return;
  }
  process.send?.({ type: 'ready', poolId: pool.poolId });
  // A pool that gives up (Postgres gone too long, queue inconsistent) ends the process: the
  // supervisor unlocks its jobs and starts a fresh one.
  pool.done.then(
    () => void shutdown(0),
    () => void shutdown(1),
  );
});
