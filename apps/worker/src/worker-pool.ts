import { EventEmitter } from 'node:events';
import { createPool } from '@roster/db';
import {
  createStepRunner,
  type EngineOptions,
  type ExecutorRegistry,
  InFlightCalls,
  quietLogger,
  sweepAdmissions,
  sweepDeadlines,
  TRANSITION_LANES,
  WorkerStopping,
} from '@roster/engine';
import { run, type WorkerEvents } from 'graphile-worker';
import { type AuditTaskOptions, auditCrontab, auditTasks } from './audit-tasks.js';
import type { CallbackEgressOptions } from './callback-delivery.js';
import { beat, forget, sweepDeadPools, unlockPools } from './heartbeat.js';
import { InlineJobs } from './inline-jobs.js';
import { RETENTION_CRONTAB, retentionTasks } from './retention-tasks.js';
import { REVIEW_CRONTAB, reviewTasks } from './review-tasks.js';
import { listenForRunStops } from './run-stop-listener.js';
import { stepTasks } from './tasks/step-tasks.js';
import { TRIGGER_CRONTAB, triggerTasks } from './trigger-tasks.js';

/** How long stop() lets calls in flight finish, unless told otherwise. */
export const STOP_GRACE_MS = 5000;

export interface WorkerPoolOptions extends EngineOptions {
  /** roster_app URL. */
  appUrl: string;
  executors: ExecutorRegistry;
  /** Jobs run at once in this process. Default 10. */
  concurrency?: number;
  /** Jobs fetched per round trip (graphile-worker localQueue). Default: concurrency × 2. */
  localQueueSize?: number;
  /** Heartbeat period; a pool silent for 3 periods is presumed dead. Default 5000 ms. */
  heartbeatMs?: number;
  /**
   * How often the pool looks for jobs whose time came (retries after backoff, wait timers); new
   * jobs arrive by LISTEN/NOTIFY without polling. Default 500 ms.
   */
  pollIntervalMs?: number;
  /** Period of the deadline, admission and dead-pool sweeps. Default 1000 ms. */
  sweepMs?: number;
  /** Run callbacks' egress (allow-list, resolver, backoff). Default: public addresses only. */
  callbacks?: CallbackEgressOptions;
  /** graphile-worker's event emitter, to observe jobs and the local queue. Default: a fresh one. */
  events?: WorkerEvents;
  /**
   * Run a run's next step in the task that ran the previous one (its job inserted locked by this
   * pool), up to 20 steps or 250 ms per task. Saves a fetch, and its commit, per step. Default true.
   */
  inlineSteps?: boolean;
  /**
   * How long `stop()` lets calls in flight finish. Past it they are aborted, and their jobs run
   * again on a worker that is up (same attempt and idempotency key), so a deploy does not wait
   * for a slow vendor. Default 5000 ms (graphile-worker's own default for aborting its tasks).
   */
  stopGraceMs?: number;
  /** The audit signing key: given, this pool runs the hourly seal and audit exports. */
  audit?: AuditTaskOptions;
}

export interface RunningWorkerPool {
  /** graphile-worker's pool id: what its jobs are locked by. */
  poolId: string;
  /** Resolves when the pool stops (rejects when it fails). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** One graphile-worker pool in this process running Roster's tasks, with heartbeat and sweeps. */
export async function runWorkerPool(options: WorkerPoolOptions): Promise<RunningWorkerPool> {
  const concurrency = options.concurrency ?? 10;
  const heartbeatMs = options.heartbeatMs ?? 5000;
  const sweepMs = options.sweepMs ?? 1000;
  // A connection per slot, one for the sweeps and heartbeat, one that LISTENs for stopped runs.
  const pool = createPool(options.appUrl, {
    max: concurrency + 3,
    applicationName: 'roster-worker',
  });
  const events: WorkerEvents = options.events ?? new EventEmitter();
  let poolId = '';
  const inlineJobs = new InlineJobs(pool, () => poolId);
  let nudge: (jobs: number) => void = () => {};
  events.on('pool:create', ({ workerPool }) => {
    poolId = workerPool.id;
    nudge = (jobs) => workerPool.nudge(jobs);
  });
  const inFlight = new InFlightCalls();
  const stepRunner = createStepRunner({
    pool,
    executors: options.executors,
    inFlight,
    ...(options.definitions ? { definitions: options.definitions } : {}),
    // The runs its callWorkflow steps start get the same run limit and input sealing.
    engine: options,
    // Transitions do not NOTIFY (that serialises their commits); the pool wakes its own queue.
    wake: (jobs) => nudge(jobs),
    ...(options.inlineSteps === false
      ? {}
      : {
          inline: {
            lockFor: () => poolId,
            settle: (jobId: string, outcome: 'complete' | 'release') =>
              inlineJobs.settle(jobId, outcome),
          },
        }),
  });
  // The connections of the transition lanes and of the stopped-runs listener open while
  // graphile-worker starts (a round trip or two each, and a SCRAM exchange), not once the first
  // jobs are waiting for them.
  const opening = Promise.all(
    Array.from({ length: TRANSITION_LANES }, () =>
      pool.connect().then(
        (client) => client.release(),
        () => {
          // Postgres unreachable: run() fails too, or the first transition connects again.
        },
      ),
    ),
  );
  const listening = listenForRunStops(pool, inFlight);
  // A pool that cannot start (Postgres unreachable) leaves no connections behind.
  const runner = await run({
    connectionString: options.appUrl,
    concurrency,
    pollInterval: options.pollIntervalMs ?? 500,
    maxPoolSize: concurrency + 2,
    noHandleSignals: true,
    logger: quietLogger,
    events,
    taskList: {
      ...stepTasks(stepRunner),
      ...triggerTasks(pool, options),
      ...auditTasks(pool, options.audit),
      ...retentionTasks(pool),
      ...reviewTasks(pool, options),
    },
    crontab: [
      TRIGGER_CRONTAB,
      RETENTION_CRONTAB,
      REVIEW_CRONTAB,
      ...auditCrontab(options.audit),
    ].join('\n'),
    preset: {
      worker: {
        localQueue: { size: options.localQueueSize ?? concurrency * 2 },
        completeJobBatchDelay: 0,
        failJobBatchDelay: 0,
      },
    },
  }).catch(async (err: unknown) => {
    await opening;
    await (await listening).close();
    await pool.end().catch(() => {});
    throw err;
  });
  const runStops = await listening;
  await opening;
  const timers: NodeJS.Timeout[] = [];
  const safely = (fn: () => Promise<unknown>) => () => {
    fn().catch(() => {
      // Postgres may be restarting; the next tick tries again.
    });
  };
  await beat(pool, poolId).catch(() => {});
  timers.push(
    setInterval(
      safely(() => beat(pool, poolId)),
      heartbeatMs,
    ),
  );
  timers.push(
    setInterval(
      safely(async () => {
        await inlineJobs.retry();
        await sweepDeadPools(pool, heartbeatMs * 3);
        await sweepDeadlines(pool, 500, options);
        await sweepAdmissions(pool, options);
      }),
      sweepMs,
    ),
  );
  for (const t of timers) t.unref();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const t of timers) clearInterval(t);
    const graceMs = options.stopGraceMs ?? STOP_GRACE_MS;
    const late = setTimeout(() => inFlight.stopAll(new WorkerStopping(graceMs)), graceMs);
    await runner.stop().catch(() => {});
    clearTimeout(late);
    // Only now: a run cancelled while the pool drains still stops its calls.
    await runStops.close();
    // graphile-worker 0.17.3 cannot hand back jobs its local queue had fetched but not started
    // when it stops ("Cannot background something when the queue is already released"): they
    // would stay locked for 4 hours. Nothing of this pool runs any more, so unlock them now.
    await unlockPools(pool, [poolId]).catch(() => {});
    await forget(pool, [poolId]).catch(() => {});
    await pool.end();
  };
  return { poolId, done: runner.promise, stop };
}
