// npm run bench:inference — raw onnxruntime-node session.run in one process (batch 1 and the
// runner's largest batch, 64 by default)
// beside Roster's runner path in the same process: requests -> DynamicBatcher -> SessionPool
// (worker threads) -> scored results, under load from many concurrent requests. Two models: a
// compute-heavy MLP built here (512 -> 2048 -> 2048 -> 16, seeded random weights) and the
// email-triage demo model (trained first if its file is missing). Demo inputs are featurized
// before the clock starts, on both sides, so both measure the model path only.
// Rounds interleave baseline and Roster; medians are reported. CPU by default; on a GPU node
// `--providers webgpu` runs the raw sessions and the runner path on that provider, and checks
// that its scores agree with the CPU's on the same batches (gpu-runners/README.md).
//   node --import @swc-node/register/esm-register bench/inference.ts [--rounds 3] [--threads 1]
//     [--providers webgpu] [--max-batch 64] [--queue-delay-ms 2] [--only heavy|demo] [--work-scale 1]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ModelServer } from '@roster/gpu-runners';
import {
  buildSparseBatch,
  type DenseFeaturizerSpec,
  type ExecutionProvider,
  exportDenseMlpOnnx,
  type FeaturizerSpec,
  featurize,
  type InferenceInput,
  parseEmail,
  readOnnxMetadata,
  type SparseFeatures,
  sparseBatchShapes,
} from '@roster/inference';
import * as ort from 'onnxruntime-node';
import { median, printReport, round } from './src/report.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '256' },
    'intra-op': { type: 'string' },
    spin: { type: 'boolean', default: false },
    only: { type: 'string' },
    providers: { type: 'string', default: 'cpu' },
    'max-batch': { type: 'string', default: '64' },
    'queue-delay-ms': { type: 'string', default: '2' },
    /** Multiplies the items measured, for faster devices. */
    'work-scale': { type: 'string', default: '1' },
  },
});
const ROUNDS = Number(args.rounds);
const THREADS = Number(args.threads);
const CONCURRENCY = Number(args.concurrency);
const INTRA_OP = args['intra-op'] === undefined ? undefined : Number(args['intra-op']);
const MAX_BATCH = Number(args['max-batch']);
const QUEUE_DELAY_MS = Number(args['queue-delay-ms']);
const PROVIDERS = args.providers.split(',').map((p) => p.trim()) as ExecutionProvider[];
const ON_CPU = PROVIDERS.length === 1 && PROVIDERS[0] === 'cpu';
/** What onnxruntime is given, as the runner gives it (providers.ts): the CPU kernels behind. */
const EXECUTION_PROVIDERS = ON_CPU ? ['cpu'] : [...PROVIDERS.filter((p) => p !== 'cpu'), 'cpu'];
const log = (line: string) => console.log(line);

interface Workload {
  name: 'heavy' | 'demo';
  model: Uint8Array;
  labels: string[];
  featurizer: FeaturizerSpec;
  /** Distinct inputs, cycled through. */
  inputs: InferenceInput[];
  /** The same inputs as onnxruntime feeds for a batch of rows [from, from + n). */
  feeds: (from: number, n: number) => Record<string, ort.Tensor>;
  /** Items per measurement: raw batch 1, raw batch 64, runner path. */
  work: { b1: number; b64: number; runner: number };
}

// --- workloads ------------------------------------------------------------------------------

const WORK_SCALE = Number(args['work-scale']);
const scaled = (work: Workload['work']): Workload['work'] => ({
  b1: Math.round(work.b1 * WORK_SCALE),
  b64: Math.round(work.b64 * WORK_SCALE),
  runner: Math.round(work.runner * WORK_SCALE),
});

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function heavyWorkload(): Workload {
  const layers = [512, 2048, 2048, 16];
  const width = layers[0]!;
  const next = seeded(11);
  const rows = Array.from({ length: Math.max(256, MAX_BATCH) }, () =>
    Array.from({ length: width }, () => next() * 2 - 1),
  );
  const flat = Float32Array.from(rows.flat());
  const featurizer: DenseFeaturizerSpec = { kind: 'dense', version: 1, width };
  return {
    name: 'heavy',
    model: exportDenseMlpOnnx({ layers, seed: 1 }),
    labels: Array.from({ length: layers.at(-1)! }, (_, i) => `class_${i}`),
    featurizer,
    inputs: rows.map((values) => ({ kind: 'dense', values })),
    feeds: (from, n) => {
      const start = (from % (rows.length - n + 1)) * width;
      return {
        input: new ort.Tensor('float32', flat.subarray(start, start + n * width), [n, width]),
      };
    },
    work: scaled({ b1: 3000, b64: 64 * 240, runner: 64 * 240 }),
  };
}

const demoPath = fileURLToPath(
  new URL('../gpu-runners/models/email-triage/out/model.onnx', import.meta.url),
);
const trainScript = fileURLToPath(
  new URL('../gpu-runners/models/email-triage/train.ts', import.meta.url),
);

/** The trained demo model, training it first if missing; undefined (with a reason) if impossible. */
function demoModel(): { bytes?: Uint8Array; reason?: string } {
  if (!existsSync(demoPath)) {
    log(`demo model missing at ${demoPath}: training it (about 40 s on 2 cores)`);
    const r = spawnSync(
      process.execPath,
      ['--import', '@swc-node/register/esm-register', trainScript],
      { stdio: ['ignore', 'ignore', 'inherit'], timeout: 240_000 },
    );
    if (r.status !== 0 || !existsSync(demoPath)) {
      return {
        reason: `training failed (status ${r.status}${r.error ? `, ${r.error.message}` : ''})`,
      };
    }
  }
  return { bytes: new Uint8Array(readFileSync(demoPath)) };
}

// Synthetic emails: ham-like and spam-like text of varying length, seeded. Only their shape
// (a few hundred to a few thousand hashed features each) matters for speed.
function syntheticEmails(count: number): string[] {
  const next = seeded(5);
  const ham =
    'meeting agenda report project review schedule team notes budget draft update attached please thanks regards tomorrow'.split(
      ' ',
    );
  const spam =
    'free offer winner click now cheap save money limited credit guaranteed viagra prize unsubscribe act today'.split(
      ' ',
    );
  return Array.from({ length: count }, (_, i) => {
    const vocab = i % 3 === 0 ? spam : ham;
    const words = Array.from(
      { length: 40 + Math.floor(next() * 400) },
      () => vocab[Math.floor(next() * vocab.length)]!,
    );
    return `From: Person ${i} <p${i}@example${i % 7}.org>\nSubject: ${words.slice(0, 6).join(' ')}\nContent-Type: text/plain\n\n${words.join(' ')}\n`;
  });
}

function demoWorkload(bytes: Uint8Array): Workload {
  const meta = readOnnxMetadata(bytes);
  const rows: SparseFeatures[] = syntheticEmails(Math.max(256, MAX_BATCH)).map((raw) =>
    featurize(meta.featurizer, parseEmail(raw)),
  );
  return {
    name: 'demo',
    model: bytes,
    labels: meta.labels,
    featurizer: meta.featurizer,
    inputs: rows.map((r) => ({
      kind: 'sparse',
      indices: Array.from(r.indices),
      values: Array.from(r.values),
    })),
    feeds: (from, n) => {
      const start = from % (rows.length - n + 1);
      const shapes = sparseBatchShapes(buildSparseBatch(rows.slice(start, start + n)));
      return Object.fromEntries(
        Object.entries(shapes).map(([name, t]) => [name, new ort.Tensor(t.type, t.data, t.dims)]),
      );
    },
    work: scaled({ b1: 12_000, b64: 64 * 600, runner: 64 * 600 }),
  };
}

// --- measurements ---------------------------------------------------------------------------

async function rawItemsPerSecond(
  session: ort.InferenceSession,
  w: Workload,
  batch: number,
  items: number,
): Promise<number> {
  const calls = Math.ceil(items / batch);
  // Feeds are built before the clock starts: this is session.run alone.
  const feeds = Array.from({ length: Math.min(calls, 64) }, (_, k) => w.feeds(k * batch, batch));
  const started = performance.now();
  for (let c = 0; c < calls; c++) await session.run(feeds[c % feeds.length]!);
  return (calls * batch) / ((performance.now() - started) / 1000);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** `concurrency` clients each send their next request when the last is answered. */
async function runnerLoad(server: ModelServer, w: Workload, items: number, concurrency: number) {
  const latencies: number[] = [];
  let sent = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < items) {
        const input = w.inputs[sent++ % w.inputs.length]!;
        const t0 = performance.now();
        await server.infer(input);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    itemsPerSecond: latencies.length / seconds,
    latencies,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

interface Round {
  rawB1: number;
  rawB64: number;
  runner: number;
  p50: number;
  p99: number;
  meanBatch: number;
}

/** Largest absolute difference between the provider's and the CPU's scores on the same batches. */
async function maxDifferenceFromCpu(session: ort.InferenceSession, w: Workload): Promise<number> {
  const cpu = await ort.InferenceSession.create(w.model, { executionProviders: ['cpu'] });
  let worst = 0;
  for (const batch of [1, MAX_BATCH]) {
    const feeds = w.feeds(0, batch);
    const [mine, theirs] = [await session.run(feeds), await cpu.run(feeds)];
    const name = session.outputNames[0]!;
    const a = mine[name]!.data as Float32Array;
    const b = theirs[name]!.data as Float32Array;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  }
  await cpu.release();
  return worst;
}

async function setUp(w: Workload) {
  const session = await ort.InferenceSession.create(w.model, {
    executionProviders: EXECUTION_PROVIDERS,
  });
  const server = await ModelServer.load({
    providers: PROVIDERS,
    model: w.model,
    labels: w.labels,
    featurizer: w.featurizer,
    threads: THREADS,
    intraOpNumThreads: INTRA_OP,
    allowSpinning: args.spin,
    maxBatchSize: MAX_BATCH,
    maxQueueDelayMs: QUEUE_DELAY_MS,
  });
  // Warm-up: first runs allocate and pick kernels.
  await rawItemsPerSecond(session, w, 1, 20);
  await rawItemsPerSecond(session, w, MAX_BATCH, MAX_BATCH * 3);
  await runnerLoad(server, w, 64 * 4, CONCURRENCY);
  return { session, server };
}

const CHUNKS = 4;

/**
 * One round: the three measurements alternate in CHUNKS slices each, so a burst of load from
 * elsewhere on the machine hits baseline and Roster alike; items and time add up per method.
 */
async function measureRound(w: Workload, s: Awaited<ReturnType<typeof setUp>>): Promise<Round> {
  const before = { ...s.server.batcher.stats };
  const sum = { b1: 0, b1s: 0, b64: 0, b64s: 0, runner: 0, runners: 0 };
  const latencies: number[] = [];
  for (let c = 0; c < CHUNKS; c++) {
    const b1Items = Math.ceil(w.work.b1 / CHUNKS);
    const b1Rate = await rawItemsPerSecond(s.session, w, 1, b1Items);
    sum.b1 += b1Items;
    sum.b1s += b1Items / b1Rate;
    const runnerItems = Math.ceil(w.work.runner / CHUNKS);
    const runner = await runnerLoad(s.server, w, runnerItems, CONCURRENCY);
    sum.runner += runnerItems;
    sum.runners += runnerItems / runner.itemsPerSecond;
    latencies.push(...runner.latencies);
    // The raw side runs whole batches of the runner's largest size, its best case.
    const b64Items = Math.ceil(w.work.b64 / CHUNKS / MAX_BATCH) * MAX_BATCH;
    const b64Rate = await rawItemsPerSecond(s.session, w, MAX_BATCH, b64Items);
    sum.b64 += b64Items;
    sum.b64s += b64Items / b64Rate;
  }
  const after = s.server.batcher.stats;
  latencies.sort((a, b) => a - b);
  return {
    rawB1: sum.b1 / sum.b1s,
    rawB64: sum.b64 / sum.b64s,
    runner: sum.runner / sum.runners,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    meanBatch: (after.items - before.items) / Math.max(1, after.batches - before.batches),
  };
}

// --- main -----------------------------------------------------------------------------------

const benchStarted = performance.now();
const workloads: Workload[] = args.only === 'demo' ? [] : [heavyWorkload()];
const notes: string[] = [
  `providers ${PROVIDERS.join(',')} (onnxruntime given ${EXECUTION_PROVIDERS.join(',')}); runner path = ModelServer (DynamicBatcher max ${MAX_BATCH}, delay ${QUEUE_DELAY_MS} ms) -> SessionPool (${THREADS} worker thread(s)), ${CONCURRENCY} concurrent closed-loop clients, in one process`,
];
const demo = args.only === 'heavy' ? {} : demoModel();
if (args.only === 'heavy') notes.push('demo model skipped: --only heavy');
else if (demo.bytes) workloads.push(demoWorkload(demo.bytes));
else notes.push(`demo model skipped: ${demo.reason}`);
for (const n of notes) log(n);

const sessions = new Map<string, Awaited<ReturnType<typeof setUp>>>();
const agreement: Record<string, number> = {};
for (const w of workloads) {
  const s = await setUp(w);
  sessions.set(w.name, s);
  log(`${w.name}: runner started on '${s.server.pool.provider}'`);
  if (!ON_CPU)
    agreement[`${w.name}_max_abs_diff_vs_cpu`] = await maxDifferenceFromCpu(s.session, w);
}
const rounds = new Map<string, Round[]>(workloads.map((w) => [w.name, []]));
for (let r = 1; r <= ROUNDS; r++) {
  for (const w of workloads) {
    const result = await measureRound(w, sessions.get(w.name)!);
    rounds.get(w.name)!.push(result);
    log(
      `round ${r} ${w.name}: raw b1 ${result.rawB1.toFixed(0)}/s, raw b${MAX_BATCH} ${result.rawB64.toFixed(0)}/s, runner ${result.runner.toFixed(0)}/s (mean batch ${result.meanBatch.toFixed(1)}, p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms)`,
    );
  }
}

// Light load: one request at a time through the runner path (the queue delay is the floor).
const light: Record<string, number> = {};
for (const w of workloads) {
  const { p50, p99 } = await runnerLoad(sessions.get(w.name)!.server, w, 200, 1);
  light[`${w.name}_runner_light_p50`] = round(p50);
  light[`${w.name}_runner_light_p99`] = round(p99);
}
for (const s of sessions.values()) {
  await s.server.close();
  await s.session.release();
}

const figures: Record<string, number> = {};
const ratios: Record<string, number> = {};
const latency: Record<string, number> = {};
for (const w of workloads) {
  const rs = rounds.get(w.name)!;
  const m = (f: (r: Round) => number) => median(rs.map(f));
  figures[`${w.name}_raw_b1_items_per_s`] = round(
    m((r) => r.rawB1),
    0,
  );
  figures[`${w.name}_raw_b${MAX_BATCH}_items_per_s`] = round(
    m((r) => r.rawB64),
    0,
  );
  figures[`${w.name}_runner_items_per_s`] = round(
    m((r) => r.runner),
    0,
  );
  figures[`${w.name}_runner_mean_batch`] = round(
    m((r) => r.meanBatch),
    1,
  );
  latency[`${w.name}_runner_p50`] = round(m((r) => r.p50));
  latency[`${w.name}_runner_p99`] = round(m((r) => r.p99));
  // Ratios are medians of per-round ratios (baseline and Roster measured side by side).
  ratios[`pool_vs_raw_${w.name}`] = round(m((r) => r.runner / r.rawB64));
  ratios[w.name === 'heavy' ? 'dynamic_vs_batch1' : `dynamic_vs_batch1_${w.name}`] = round(
    m((r) => r.runner / r.rawB1),
  );
}
log(
  `spread: ${workloads
    .map(
      (w) =>
        `${w.name} runner ${rounds
          .get(w.name)!
          .map((r) => r.runner.toFixed(0))
          .join('/')} raw b${MAX_BATCH} ${rounds
          .get(w.name)!
          .map((r) => r.rawB64.toFixed(0))
          .join('/')}`,
    )
    .join('; ')}; total ${((performance.now() - benchStarted) / 1000).toFixed(0)} s`,
);
printReport({
  bench: 'inference',
  figures,
  ratios,
  latency_ms: { ...latency, ...light },
  ...(ON_CPU ? {} : { agreement }),
  env: {
    node: process.version,
    onnxruntime: ort.env.versions.node ?? ort.env.versions.common,
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? 'unknown',
    memory_gib: round(totalmem() / 2 ** 30, 1),
    device: ON_CPU ? 'cpu' : PROVIDERS.join(','),
    threads: THREADS,
  },
  notes,
});
