import { getEventListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectViolations,
  installConnectGuard,
  type LoopbackPeer,
  startPeer,
  testResolver,
} from '../test/loopback-peer.js';
import { verifiedBundle } from '../test/verified.js';
import { createEgressPolicy } from './egress-policy.js';
import type { HostCapabilities } from './host-bridge.js';
import { createHttpEgress } from './http-egress.js';
import { createPluginPool, type PluginPool } from './pool.js';
import type { VerifiedPlugin } from './verified-plugin.js';

installConnectGuard();
const probeEntry = fileURLToPath(new URL('../test/fixtures/probe.plugin.ts', import.meta.url));
let peer: LoopbackPeer;
let probe: VerifiedPlugin;
let pool: PluginPool;
let capabilities: HostCapabilities;
/** Paths under /hang/ get no answer; their connection's close is recorded here. */
const hangClosed = new Set<string>();

beforeAll(async () => {
  peer = await startPeer((req, res) => {
    const reply = () => res.end(JSON.stringify({ path: req.url }));
    if (req.url === '/slow') setTimeout(reply, 3000);
    else if (req.url?.startsWith('/hang/')) res.on('close', () => hangClosed.add(req.url!));
    else reply();
  });
  probe = await verifiedBundle(probeEntry);
  capabilities = {
    http: createHttpEgress({
      policy: createEgressPolicy({ allow: ['api.peer.test'] }),
      resolve: testResolver,
    }),
  };
  pool = createPluginPool({ size: 1, graceMs: 1000, capabilities });
  await pool.ready();
}, 60_000);
afterAll(async () => {
  await pool.close();
  await peer.close();
  expect(connectViolations).toEqual([]);
});

interface RunOptions {
  timeoutMs?: number;
  granted?: ('http' | 'kv')[];
  signal?: AbortSignal;
  on?: PluginPool;
}

const run = (script: string, options: RunOptions = {}) =>
  (options.on ?? pool).invoke({
    plugin: probe,
    actionId: 'run',
    input: { script },
    grantedScopes: options.granted ?? ['http', 'kv'],
    idempotencyKey: 'run/step/1',
    limits: { timeoutMs: options.timeoutMs ?? 2000 },
    ...(options.signal ? { signal: options.signal } : {}),
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `check` holds within `ms` (polled). */
async function within(ms: number, check: () => boolean): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

const sawPath = (path: string) => () => peer.seen.some((seen) => seen.url === path);

const fetchPeer = (path: string) =>
  `return (await ctx.http.fetch('http://api.peer.test:${peer.port}${path}')).json();`;

async function expectStillServing() {
  await expect(run(fetchPeer('/alive'))).resolves.toMatchObject({
    output: { result: { path: '/alive' } },
  });
}

describe('plugin pool', () => {
  it('runs invocations in a worker process, with host calls served by the parent', async () => {
    const result = await run(fetchPeer('/hello'));
    expect(result.output).toEqual({ result: { path: '/hello' } });
    const [worker] = pool.stats().workers;
    expect(worker?.pid).not.toBe(process.pid);
    await expect(run(`return await ctx.kv.get('k');`, { granted: ['http'] })).rejects.toMatchObject(
      { code: 'FORBIDDEN' },
    );
  });

  it('stops an infinite loop within its budget + 1 s and keeps the worker', async () => {
    const replacedBefore = pool.stats().replaced;
    const started = Date.now();
    await expect(run('while (true) {}', { timeoutMs: 500 })).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(pool.stats().replaced).toBe(replacedBefore);
    await expectStillServing();
  });

  it('fails only the in-flight invocations of a crashed worker and replaces it', async () => {
    const before = pool.stats();
    const inFlight = run(fetchPeer('/slow'), { timeoutMs: 5000 });
    while (peer.seen.at(-1)?.url !== '/slow')
      await new Promise((resolve) => setTimeout(resolve, 10));
    process.kill(before.workers[0]!.pid!, 'SIGKILL');
    await expect(inFlight).rejects.toMatchObject({ code: 'WORKER_CRASHED' });
    await expectStillServing();
    const after = pool.stats();
    expect(after.replaced).toBe(before.replaced + 1);
    expect(after.workers[0]!.pid).not.toBe(before.workers[0]!.pid);
  });

  it('kills a worker that stops answering at budget + grace, with TIMEOUT', async () => {
    const before = pool.stats();
    const started = Date.now();
    const seen = peer.seen.length;
    const stuck = run(fetchPeer('/slow'), { timeoutMs: 500 });
    // Freeze the worker mid-invocation (as a wedged engine would be): only the parent can end it.
    while (peer.seen.length === seen) await new Promise((resolve) => setTimeout(resolve, 5));
    process.kill(before.workers[0]!.pid!, 'SIGSTOP');
    await expect(stuck).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(500 + 1000 + 1000);
    expect(pool.stats().replaced).toBe(before.replaced + 1);
    await expectStillServing();
  });

  it('contains a heap-growing loop that QuickJS alone polls too rarely', async () => {
    const started = Date.now();
    const error = await run('const a = []; for (;;) a.push(new Uint8Array(1024 * 1024));', {
      timeoutMs: 500,
    }).catch((e: unknown) => e);
    expect(['TIMEOUT', 'MEMORY_LIMIT']).toContain((error as { code?: string }).code);
    expect(Date.now() - started).toBeLessThan(500 + 1000 + 1000);
    await expectStillServing();
  });

  it('cancels an invocation waiting on HTTP: CANCELLED at once, the request closed, the worker kept', async () => {
    const replacedBefore = pool.stats().replaced;
    const controller = new AbortController();
    const started = Date.now();
    const pending = run(fetchPeer('/hang/http'), {
      timeoutMs: 10_000,
      signal: controller.signal,
    });
    expect(await within(5000, sawPath('/hang/http'))).toBe(true);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await within(2000, () => hangClosed.has('/hang/http'))).toBe(true);
    await expectStillServing();
    expect(pool.stats().replaced).toBe(replacedBefore);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('interrupts a busy guest on cancel without replacing its worker', async () => {
    const replacedBefore = pool.stats().replaced;
    const controller = new AbortController();
    const pending = run(`${fetchPeer('/busy').replace('return', '')} while (true) {}`, {
      timeoutMs: 10_000,
      signal: controller.signal,
    });
    expect(await within(5000, sawPath('/busy'))).toBe(true);
    await sleep(100);
    const started = Date.now();
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(Date.now() - started).toBeLessThan(2000);
    // Had the guest kept the worker busy, the pool would have replaced it after its 1 s grace.
    expect(await within(5000, () => pool.stats().workers[0]!.inFlight === 0)).toBe(true);
    await expectStillServing();
    expect(pool.stats().replaced).toBe(replacedBefore);
  });

  it('refuses an already cancelled invocation without running it', async () => {
    await expect(
      run(fetchPeer('/hang/pre'), { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    await expectStillServing();
    expect(sawPath('/hang/pre')()).toBe(false);
  });

  it('drops a queued invocation on cancel, and lets each settled one drop its listener', async () => {
    const single = createPluginPool({ size: 1, maxConcurrentPerWorker: 1, capabilities });
    try {
      const holder = new AbortController();
      const holding = run(fetchPeer('/hang/holder'), {
        on: single,
        timeoutMs: 10_000,
        signal: holder.signal,
      });
      expect(await within(10_000, sawPath('/hang/holder'))).toBe(true);
      const queued = new AbortController();
      const waiting = run(fetchPeer('/hang/queued'), {
        on: single,
        timeoutMs: 10_000,
        signal: queued.signal,
      });
      expect(single.stats().queued).toBe(1);
      queued.abort();
      await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(single.stats().queued).toBe(0);
      holder.abort();
      await expect(holding).rejects.toMatchObject({ code: 'CANCELLED' });
      // One signal shared by many invocations (as a run's would be) keeps no listener behind.
      const shared = new AbortController();
      for (let i = 0; i < 3; i++) {
        await expect(run('return 1', { on: single, signal: shared.signal })).resolves.toEqual(
          expect.objectContaining({ output: { result: 1 } }),
        );
      }
      expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
      expect(sawPath('/hang/queued')()).toBe(false);
      expect(single.stats().replaced).toBe(0);
    } finally {
      await single.close();
    }
  });

  it('refuses work once closed', async () => {
    const closing = createPluginPool({ size: 1, capabilities: {} });
    await closing.close();
    await expect(
      closing.invoke({
        plugin: probe,
        actionId: 'run',
        input: { script: 'return 1' },
        grantedScopes: [],
        idempotencyKey: 'k',
      }),
    ).rejects.toMatchObject({ code: 'POOL_CLOSED' });
  });
});
