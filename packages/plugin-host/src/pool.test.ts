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
import { createHttpEgress } from './http-egress.js';
import { createPluginPool, type PluginPool } from './pool.js';
import type { VerifiedPlugin } from './verified-plugin.js';

installConnectGuard();
const probeEntry = fileURLToPath(new URL('../test/fixtures/probe.plugin.ts', import.meta.url));
let peer: LoopbackPeer;
let probe: VerifiedPlugin;
let pool: PluginPool;

beforeAll(async () => {
  peer = await startPeer((req, res) => {
    const reply = () => res.end(JSON.stringify({ path: req.url }));
    if (req.url === '/slow') setTimeout(reply, 3000);
    else reply();
  });
  probe = await verifiedBundle(probeEntry);
  pool = createPluginPool({
    size: 1,
    graceMs: 1000,
    capabilities: {
      http: createHttpEgress({
        policy: createEgressPolicy({ allow: ['api.peer.test'] }),
        resolve: testResolver,
      }),
    },
  });
  await pool.ready();
}, 60_000);
afterAll(async () => {
  await pool.close();
  await peer.close();
  expect(connectViolations).toEqual([]);
});

const run = (script: string, options: { timeoutMs?: number; granted?: ('http' | 'kv')[] } = {}) =>
  pool.invoke({
    plugin: probe,
    actionId: 'run',
    input: { script },
    grantedScopes: options.granted ?? ['http', 'kv'],
    idempotencyKey: 'run/step/1',
    limits: { timeoutMs: options.timeoutMs ?? 2000 },
  });

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
