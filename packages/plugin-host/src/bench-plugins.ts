// Benchmark: a small connector action doing one http.fetch to a local server, run (a) directly
// in Node with the same egress client (baseline), (b) in the QuickJS sandbox in this process,
// (c) through the worker-process pool. Shape of /work/shared/BENCH.md; 3 interleaved rounds.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ActionContext, Connector, HttpResponse } from '@roster/plugin-sdk';
import { bundlePlugin } from './bundle.js';
import { createEgressPolicy } from './egress-policy.js';
import type { HostCapabilities } from './host-bridge.js';
import { createHttpEgress } from './http-egress.js';
import { packPlugin } from './plugin-package.js';
import { createPluginPool } from './pool.js';
import { generatePublisherKey, publicKeyOf } from './publisher-key.js';
import { createSandbox } from './sandbox.js';
import { verifyPackage } from './verify-package.js';

const FIXTURE = fileURLToPath(new URL('../test/fixtures/http-echo.plugin.ts', import.meta.url));
const ROUNDS = 3;
const CALLS = 300;
const WARMUP = 50;

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[
    Math.min(values.length - 1, Math.floor((p / 100) * values.length))
  ]!;
const round2 = (n: number) => Math.round(n * 100) / 100;

async function measure(fn: () => Promise<unknown>, calls: number) {
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < calls; i++) {
    const t = performance.now();
    await fn();
    latencies.push(performance.now() - t);
  }
  const used = process.cpuUsage(cpu);
  return {
    perSecond: (calls * 1000) / (performance.now() - started),
    latencies,
    // CPU of this process per call (the local server's share is the same in every mode).
    cpuMs: (used.user + used.system) / 1000 / calls,
  };
}

export async function runPluginsBench(): Promise<object> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true,"items":[1,2,3]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://api.peer.test:${port}/v1/ping`;
  const http = createHttpEgress({
    policy: createEgressPolicy({ allow: ['api.peer.test'] }),
    resolve: async () => ['127.0.0.1'],
  });
  const capabilities: HostCapabilities = { http };
  const bundle = await bundlePlugin(FIXTURE);
  const publisher = generatePublisherKey('bench');
  const connector = ((await import(FIXTURE)) as { default: Connector }).default;
  const declaredHosts = bundle.manifest.capabilities.http?.hosts ?? [];

  // Baseline: the same action and egress client, no sandbox, no schema validation.
  const directCtx = {
    secrets: { token: 't' },
    idempotencyKey: 'bench/step/1',
    signal: { aborted: false },
    log: { debug() {}, info() {}, warn() {}, error() {} },
    http: {
      fetch: async (
        target: string,
        init: { headers?: Record<string, string> } = {},
      ): Promise<HttpResponse> => {
        const r = await http(
          { url: target, method: 'GET', headers: init.headers ?? {} },
          declaredHosts,
        );
        return {
          status: r.status,
          headers: r.headers,
          text: () => r.body,
          json: <T>() => JSON.parse(r.body) as T,
        };
      },
    },
  } as ActionContext<'http'>;
  const action = connector.actions.get!;
  const direct = () => Promise.resolve(action.run(directCtx as never, { url }));

  const request = {
    plugin: verifyPackage(packPlugin(bundle, publisher), [publicKeyOf(publisher)]),
    actionId: 'get',
    input: { url },
    secrets: { token: 't' },
    grantedScopes: ['http' as const],
    idempotencyKey: 'bench/step/1',
  };
  const sandbox = createSandbox();
  const sandboxed = () => sandbox.invokeAction({ ...request, capabilities });
  const pool = createPluginPool({ size: 1, capabilities });
  await pool.ready();
  const pooled = () => pool.invoke(request);

  try {
    for (const fn of [direct, sandboxed, pooled]) await measure(fn, WARMUP);
    const rounds: {
      direct: number;
      sandbox: number;
      pool: number;
      directLatencies: number[];
      sandboxLatencies: number[];
      poolLatencies: number[];
      directCpu: number;
      sandboxCpu: number;
    }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const d = await measure(direct, CALLS);
      const s = await measure(sandboxed, CALLS);
      const p = await measure(pooled, CALLS);
      rounds.push({
        direct: d.perSecond,
        sandbox: s.perSecond,
        pool: p.perSecond,
        directLatencies: d.latencies,
        sandboxLatencies: s.latencies,
        poolLatencies: p.latencies,
        directCpu: d.cpuMs,
        sandboxCpu: s.cpuMs,
      });
      console.log(
        `round ${r + 1}: direct ${d.perSecond.toFixed(0)}/s, sandbox ${s.perSecond.toFixed(0)}/s, pool ${p.perSecond.toFixed(0)}/s`,
      );
    }
    const directPerS = median(rounds.map((r) => r.direct));
    const sandboxPerS = median(rounds.map((r) => r.sandbox));
    const poolPerS = median(rounds.map((r) => r.pool));
    const sandboxLatencies = rounds.flatMap((r) => r.sandboxLatencies);
    const poolLatencies = rounds.flatMap((r) => r.poolLatencies);
    const directP50 = percentile(
      rounds.flatMap((r) => r.directLatencies),
      50,
    );
    return {
      bench: 'plugins',
      figures: {
        direct_per_s: Math.round(directPerS),
        sandbox_per_s: Math.round(sandboxPerS),
        pool_per_s: Math.round(poolPerS),
        bundle_bytes: bundle.code.length,
      },
      ratios: {
        sandbox_vs_direct: round2(sandboxPerS / directPerS),
        pool_vs_direct: round2(poolPerS / directPerS),
      },
      latency_ms: {
        // Fixed cost the sandbox adds per invocation: 1/rate difference against the baseline.
        sandbox_overhead: round2(1000 / sandboxPerS - 1000 / directPerS),
        pool_overhead: round2(1000 / poolPerS - 1000 / directPerS),
        // The same at the median, less sensitive to a shared machine's pauses.
        sandbox_overhead_p50: round2(percentile(sandboxLatencies, 50) - directP50),
        pool_overhead_p50: round2(percentile(poolLatencies, 50) - directP50),
        // CPU this process spends per invocation beyond the baseline's (the sandbox's own work).
        sandbox_overhead_cpu: round2(median(rounds.map((r) => r.sandboxCpu - r.directCpu))),
        direct_p50: round2(directP50),
        sandbox_p50: round2(percentile(sandboxLatencies, 50)),
        sandbox_p99: round2(percentile(sandboxLatencies, 99)),
        pool_p50: round2(percentile(poolLatencies, 50)),
        pool_p99: round2(percentile(poolLatencies, 99)),
      },
      env: { node: process.version, cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown' },
    };
  } finally {
    await pool.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
