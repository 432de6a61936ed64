import { createPool } from '@roster/db';
import { ExecutorRegistry } from '@roster/engine';
import { runWorkerPool } from './worker-pool.js';

/**
 * Entry of one worker process spawned by the supervisor. Its options arrive over IPC (never
 * from the environment); `executorModule` names a module whose default export builds the
 * ExecutorRegistry from `{ appUrl }` (the plugin host's and the inference work's, or a test's).
 */
export interface WorkerProcessOptions {
  appUrl: string;
  concurrency?: number;
  maxRunsPerTenant?: number;
  pollIntervalMs?: number;
  heartbeatMs?: number;
  sweepMs?: number;
  executorModule?: string;
  /** Run callbacks: the operator's egress allow-list (ROSTER_EGRESS_ALLOW) and backoff. */
  callbacks?: { allow?: string[]; backoffMs?: number[] };
}

process.once('message', async (message: { type: 'start'; options: WorkerProcessOptions }) => {
  const { executorModule, ...options } = message.options;
  const executors: ExecutorRegistry = executorModule
    ? await (await import(executorModule)).default({ appUrl: options.appUrl, createPool })
    : new ExecutorRegistry();
  const pool = await runWorkerPool({ ...options, executors });
  process.send?.({ type: 'ready', poolId: pool.poolId });
  process.on('message', async (m: { type: string }) => {
    if (m.type === 'stop') {
      await pool.stop();
      process.exit(0);
    }
  });
  // A pool that gives up (Postgres gone too long, queue inconsistent) ends the process: the
  // supervisor unlocks its jobs and starts a fresh one.
  pool.done.then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
