// npm run bench:engine — raw graphile-worker no-op jobs vs Roster steps and runs, same Postgres,
// same worker settings (concurrency 10, localQueue 200, completeJobBatchDelay 0), fsync on.
// After an uncounted warm-up round (a quarter of the work of each), work is enqueued before the
// clock starts (as graphile-worker's perfTest does) and measured until the last job/run is done
// (raw: counted in process; Roster: no active run left, probed whenever the pool has no job
// running, at most every 2 ms, and at least every 50 ms); rounds interleave baseline and Roster;
// medians are reported. A round includes starting the worker pool. Raw and runs1 are also
// measured in rounds of 20,000, perfTest's size, in which starting the pool weighs less and raw
// graphile-worker's deeper queue costs it more.
// (Roster's pool polls every 500 ms for due timers where the raw pool uses the 2 s default:
// neither polls for new work, which arrives by NOTIFY or the pool's own wake-up.)
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { appUrlFor, createPool, migrate, type Pool } from '@roster/db';
import {
  ExecutorRegistry,
  installWorkerSchema,
  quietLogger,
  startRun,
  startRuns,
} from '@roster/engine';
import { runWorkerPool } from '@roster/worker';
import { run, type WorkerEvents } from 'graphile-worker';
import { startBenchPostgres } from './src/bench-postgres.js';
import { benchEnv, median, printReport, round } from './src/report.js';

const CONCURRENCY = 10;
const LOCAL_QUEUE = 200;
const RAW_JOBS = 4000;
const RUNS10 = 400; // 4,000 steps
const RUNS1 = 4000;
// graphile-worker's perfTest runs 20,000 jobs a round.
const LARGE = 20_000;
const ROUNDS = 3;
// 500 samples: the p99 of 100 is their slowest (pct below), one hiccup of the host's.
const LATENCY_RUNS = 500;
const LATENCY_WARMUP = 10;
const NO_LIMIT = { maxRunsPerTenant: 1_000_000 };

const pgInfo = await startBenchPostgres(process.env.DATABASE_URL);
await migrate(pgInfo.ownerUrl, {
  appPassword: pgInfo.appPassword,
  afterMigrate: installWorkerSchema,
});
const appUrl = appUrlFor(pgInfo.ownerUrl, pgInfo.appPassword);
const owner = createPool(pgInfo.ownerUrl, { max: 4 });
const app = createPool(appUrl, { max: 10 });
const tenantId = randomUUID();
await owner.query('INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $3)', [
  tenantId,
  `bench-${tenantId}`,
  'Bench',
]);

async function workflow(definition: unknown): Promise<string> {
  const id = randomUUID();
  await owner.query(
    'INSERT INTO workflows (tenant_id, id, name, latest_version) VALUES ($1, $2, $3, 1)',
    [tenantId, id, id],
  );
  await owner.query(
    'INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition) VALUES ($1, $2, 1, $3)',
    [tenantId, id, definition],
  );
  return id;
}
const chain = (n: number, step: (i: number) => Record<string, unknown>) => ({
  start: 's1',
  steps: Object.fromEntries(
    Array.from({ length: n }, (_, i) => [
      `s${i + 1}`,
      { ...step(i), ...(i + 1 < n ? { next: `s${i + 2}` } : { end: true }) },
    ]),
  ),
});
// A no-op step: a transform of a constant (no executor, no read of the run).
const noop = () => ({ type: 'transform', value: '1' });
const wf10 = await workflow(chain(10, noop));
const wf1 = await workflow(chain(1, noop));
// A 1-step run whose step is a no-op connector call: its workflow does not start with a pure step,
// so its runs get a job each (runs started together whose first step is pure share start batches:
// decision 0005, tenth session).
const wfConnector1 = await workflow(
  chain(1, () => ({ type: 'connector', connector: 'bench', action: 'noop' })),
);
const stamps = new Map<string, number>();
const wfLatency = await workflow(
  chain(10, () => ({ type: 'connector', connector: 'bench', action: 'stamp' })),
);
// A no-op connector step: a call with a side effect, so each one commits before the next runs
// (transforms chain: consecutive pure steps commit together, see decision 0005).
const wfConnector10 = await workflow(
  chain(10, () => ({ type: 'connector', connector: 'bench', action: 'noop' })),
);
const executors = new ExecutorRegistry().registerConnector(async (call) => {
  if (call.step.action === 'stamp') stamps.set(`${call.runId}/${call.stepId}`, performance.now());
  return { output: null };
});
const preset = {
  worker: { localQueue: { size: LOCAL_QUEUE }, completeJobBatchDelay: 0, failJobBatchDelay: 0 },
};

/** Roster's worker pool, with the same settings as the raw runner's. */
const startPool = (events?: WorkerEvents) =>
  runWorkerPool({
    appUrl,
    executors,
    concurrency: CONCURRENCY,
    localQueueSize: LOCAL_QUEUE,
    ...NO_LIMIT,
    ...(events ? { events } : {}),
  });

async function rawRound(jobs = RAW_JOBS): Promise<number> {
  await owner.query(
    `SELECT graphile_worker.add_jobs(array_agg(('bench_noop', '{}'::json, NULL, NULL, NULL, NULL, NULL, NULL)::graphile_worker.job_spec))
       FROM generate_series(1, $1)`,
    [jobs],
  );
  let done = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const start = performance.now();
  const runner = await run({
    connectionString: appUrl,
    concurrency: CONCURRENCY,
    noHandleSignals: true,
    logger: quietLogger,
    taskList: {
      bench_noop: async () => {
        if (++done === jobs) finish();
      },
    },
    preset,
  });
  await finished;
  const elapsed = performance.now() - start;
  await runner.stop();
  return (jobs / elapsed) * 1000;
}

async function succeededCount(pool: Pool): Promise<number> {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS n FROM runs WHERE status = 'succeeded'`,
  );
  return rows[0].n as number;
}

const ACTIVE_SQL = `SELECT EXISTS (SELECT 1 FROM runs WHERE tenant_id = $1 AND status IN ('queued', 'running')) AS active`;
const RUN_ACTIVE_SQL = `SELECT EXISTS (SELECT 1 FROM runs WHERE tenant_id = $1 AND id = $2 AND status IN ('queued', 'running')) AS active`;

async function rosterRound(workflowId: string, runs: number): Promise<number> {
  const before = await succeededCount(owner);
  for (let i = 0; i < runs; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, runs - i) }, () => ({
      workflowId,
      input: {},
    }));
    await startRuns(app, tenantId, batch, NO_LIMIT);
  }
  // Done when the tenant has no active run left: an index-only probe, one at a time, whenever
  // the pool has no job running (a run ends only as the job that ran its last step does, so the
  // last run has ended once its job completes and no other job runs). Raw counts its jobs in
  // process; probing as every job completes took CPU from the two cores both share (about 35
  // probes a round of one-step runs, 3% of the round), so probes wait for an idle pool.
  const events: WorkerEvents = new EventEmitter();
  let completed = false;
  let wake = () => {};
  let running = 0;
  events.on('job:start', () => {
    running++;
  });
  events.on('job:complete', () => {
    running--;
    if (running > 0) return;
    completed = true;
    wake();
  });
  const start = performance.now();
  const worker = await startPool(events);
  for (;;) {
    completed = false;
    const probed = performance.now();
    if (!(await owner.query(ACTIVE_SQL, [tenantId])).rows[0].active) break;
    // Next probe: once the pool has gone idle (during this probe too: its last job may have
    // ended the last run), but not within 2 ms of this one (one-step connector runs can idle the
    // pool every millisecond), or after 50 ms.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 50);
      const soon = () => {
        clearTimeout(timer);
        setTimeout(resolve, Math.max(0, probed + 2 - performance.now()));
      };
      if (completed) soon();
      else wake = soon;
    });
    wake = () => {};
  }
  const elapsed = performance.now() - start;
  await worker.stop();
  const after = await succeededCount(owner);
  if (after - before !== runs) {
    throw new Error(`bench: ${after - before} of ${runs} runs succeeded; the engine lost work`);
  }
  return (runs / elapsed) * 1000;
}

// Warm-up, not counted: the first round of each would otherwise pay for cold caches (the
// definitions, each connection's compiled PL/pgSQL and plans, V8's JIT) as Roster's and for
// nothing comparable as raw graphile-worker's.
await rawRound(RAW_JOBS / 4);
for (const wf of [wf10, wfConnector10]) await rosterRound(wf, RUNS10 / 4);
await rosterRound(wf1, RUNS1 / 4);
await rosterRound(wfConnector1, RUNS1 / 4);

const raw: number[] = [];
const steps10: number[] = [];
const connector10: number[] = [];
const runs1: number[] = [];
const connector1: number[] = [];
const rawLarge: number[] = [];
const runs1Large: number[] = [];
for (let round_ = 0; round_ < ROUNDS; round_++) {
  raw.push(await rawRound());
  steps10.push((await rosterRound(wf10, RUNS10)) * 10);
  connector10.push((await rosterRound(wfConnector10, RUNS10)) * 10);
  runs1.push(await rosterRound(wf1, RUNS1));
  connector1.push(await rosterRound(wfConnector1, RUNS1));
  console.log(
    `round ${round_ + 1}: raw ${round(raw.at(-1) ?? 0, 0)} jobs/s, steps10 ${round(steps10.at(-1) ?? 0, 0)} steps/s, connector steps10 ${round(connector10.at(-1) ?? 0, 0)} steps/s, runs1 ${round(runs1.at(-1) ?? 0, 0)} runs/s, connector runs1 ${round(connector1.at(-1) ?? 0, 0)} runs/s`,
  );
}
// perfTest's size, after the rounds above (whose runs they would otherwise slow, by the dead
// rows they leave until autovacuum).
await owner.query('VACUUM (ANALYZE)');
for (let round_ = 0; round_ < ROUNDS; round_++) {
  rawLarge.push(await rawRound(LARGE));
  runs1Large.push(await rosterRound(wf1, LARGE));
  console.log(
    `round ${round_ + 1} of ${LARGE}: raw ${round(rawLarge.at(-1) ?? 0, 0)} jobs/s, runs1 ${round(runs1Large.at(-1) ?? 0, 0)} runs/s`,
  );
}

// Latency on an idle system: one run at a time (the next starts once the last has ended), each of
// 10 connector steps stamping when it runs.
async function measureLatency(): Promise<{ start: number[]; step: number[] }> {
  const worker = await startPool();
  const start: number[] = [];
  const step: number[] = [];
  // The first runs warm the fresh pool (connections, prepared statements, the definition cache)
  // and are not counted: they would be the slowest samples, and set the p99.
  for (let i = -LATENCY_WARMUP; i < LATENCY_RUNS; i++) {
    if (i === 0) {
      start.length = 0;
      step.length = 0;
    }
    const t0 = performance.now();
    const { runId } = await startRun(app, tenantId, { workflowId: wfLatency }, NO_LIMIT);
    while (!stamps.has(`${runId}/s10`)) await new Promise((resolve) => setTimeout(resolve, 1));
    start.push((stamps.get(`${runId}/s1`) as number) - t0);
    for (let s = 2; s <= 10; s++) {
      step.push(
        (stamps.get(`${runId}/s${s}`) as number) - (stamps.get(`${runId}/s${s - 1}`) as number),
      );
    }
    while ((await owner.query(RUN_ACTIVE_SQL, [tenantId, runId])).rows[0].active) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  await worker.stop();
  return { start, step };
}
const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
};
// Right after the rounds, graphile-worker's fetch bitmap-scans the dead index entries of every job
// the rounds inserted and deleted (about 18,000 after two rounds) until VACUUM: printed, not the
// reported figure.
const burst = await measureLatency();
console.log(
  `latency right after the rounds, before VACUUM: start p50 ${round(pct(burst.start, 50))} / p99 ${round(pct(burst.start, 99))} ms, step p50 ${round(pct(burst.step, 50))} / p99 ${round(pct(burst.step, 99))} ms`,
);
// The idle system the figures describe: the rounds' dead rows vacuumed, as autovacuum does
// within a minute on its own.
await owner.query('VACUUM (ANALYZE)');
const { start: startLatency, step: stepLatency } = await measureLatency();
console.log(
  `spread: raw ${raw.map((v) => round(v, 0)).join('/')}, steps10 ${steps10.map((v) => round(v, 0)).join('/')}, connector steps10 ${connector10.map((v) => round(v, 0)).join('/')}, runs1 ${runs1.map((v) => round(v, 0)).join('/')}, connector runs1 ${connector1.map((v) => round(v, 0)).join('/')}; rounds of ${LARGE}: raw ${rawLarge.map((v) => round(v, 0)).join('/')}, runs1 ${runs1Large.map((v) => round(v, 0)).join('/')}`,
);
await Promise.all([owner.end(), app.end()]);
await pgInfo.stop();
const rawMedian = median(raw);
printReport({
  bench: 'engine',
  figures: {
    raw_jobs_per_s: round(rawMedian, 0),
    steps10_per_s: round(median(steps10), 0),
    steps10_connector_per_s: round(median(connector10), 0),
    runs1_per_s: round(median(runs1), 0),
    runs1_connector_per_s: round(median(connector1), 0),
    raw_jobs_per_s_rounds_of_20000: round(median(rawLarge), 0),
    runs1_per_s_rounds_of_20000: round(median(runs1Large), 0),
  },
  ratios: {
    steps10_vs_raw: round(median(steps10) / rawMedian),
    steps10_connector_vs_raw: round(median(connector10) / rawMedian),
    runs1_vs_raw: round(median(runs1) / rawMedian),
    runs1_connector_vs_raw: round(median(connector1) / rawMedian),
    runs1_vs_raw_rounds_of_20000: round(median(runs1Large) / median(rawLarge)),
  },
  latency_ms: {
    start_p50: round(pct(startLatency, 50)),
    start_p99: round(pct(startLatency, 99)),
    step_p50: round(pct(stepLatency, 50)),
    step_p99: round(pct(stepLatency, 99)),
  },
  env: benchEnv(pgInfo.version),
  notes: [
    'fsync and synchronous_commit on; concurrency 10, localQueue 200, completeJobBatchDelay 0 for both',
    'jobs/runs enqueued before timing; no-op step = transform of a constant; maxRunsPerTenant raised above the batch',
    'latency: 500 runs, one at a time, on an idle pool after VACUUM (ANALYZE), after 10 uncounted warm-up runs; an earlier line gives the figures right after the rounds, before VACUUM',
    "throughput: one uncounted warm-up round (a quarter of the work) before the 3 measured rounds of 4,000 jobs, steps or runs; each round starts its worker pool; *_rounds_of_20000: raw and runs1 in 3 rounds of 20,000 (graphile-worker's perfTest size), run afterwards on a vacuumed database",
    'steps10: consecutive transforms chain (commit together, a step run and audit event each); steps10_connector: no-op connector calls, one commit per step',
    'runs1: runs started 1,000 per startRuns call whose first step is pure share start batch jobs of 50 (each run still records its step run and audit events); runs1_connector: a no-op connector step, a job per run',
  ],
});
