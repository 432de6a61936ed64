import { getEventListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  installConnectGuard,
  type LoopbackPeer,
  startPeer,
  testResolver,
} from '../test/loopback-peer.js';
import { verifiedBundle, verifiedFromCode } from '../test/verified.js';
import { createEgressPolicy } from './egress-policy.js';
import type { HostCapabilities } from './host-bridge.js';
import { createHttpEgress } from './http-egress.js';
import { createSandbox } from './sandbox.js';
import type { VerifiedPlugin } from './verified-plugin.js';

installConnectGuard();
const fixture = (name: string) =>
  fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));
const sandbox = createSandbox();
let peer: LoopbackPeer;
let echo: VerifiedPlugin;
let probe: VerifiedPlugin;
let capabilities: HostCapabilities;
/** Paths under /hang/ get no answer; their connection's close is recorded here. */
const hangClosed = new Set<string>();

beforeAll(async () => {
  peer = await startPeer((req, res) => {
    if (req.url?.startsWith('/hang/')) {
      res.on('close', () => hangClosed.add(req.url!));
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ path: req.url }));
  });
  [echo, probe] = await Promise.all([
    verifiedBundle(fixture('http-echo.plugin.ts')),
    verifiedBundle(fixture('probe.plugin.ts')),
  ]);
  capabilities = {
    http: createHttpEgress({
      policy: createEgressPolicy({ allow: ['api.peer.test'] }),
      resolve: testResolver,
    }),
  };
}, 60_000);
afterAll(() => peer.close());

const base = () => ({
  plugin: echo,
  actionId: 'get',
  secrets: { token: 's3cret' },
  grantedScopes: ['http' as const],
  idempotencyKey: 'run-9/step-3/2',
  capabilities,
});

describe('invokeAction', () => {
  it('runs an action with secrets, idempotency key and logs, returning validated output', async () => {
    const result = await sandbox.invokeAction({
      ...base(),
      input: { url: `http://api.peer.test:${peer.port}/v1/x` },
    });
    expect(result.output).toEqual({ status: 200, body: { path: '/v1/x' } });
    expect(result.logs).toEqual([{ level: 'info', message: 'fetched', fields: { status: 200 } }]);
    expect(result.hostCalls).toBe(1);
    const seen = peer.seen.at(-1)!;
    expect(seen.headers.authorization).toBe('Bearer s3cret');
    expect(seen.headers['idempotency-key']).toBe('run-9/step-3/2');
  });

  it('rejects input that does not match the manifest schema before running anything', async () => {
    const before = peer.seen.length;
    await expect(sandbox.invokeAction({ ...base(), input: { url: 42 } })).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      details: { issues: ['/url must be string'] },
    });
    expect(peer.seen.length).toBe(before);
  });

  it('rejects output that does not match the manifest schema', async () => {
    const run = (n: number) =>
      sandbox.invokeAction({
        ...base(),
        plugin: probe,
        actionId: 'double',
        input: { n },
      });
    await expect(run(2)).resolves.toMatchObject({ output: { doubled: 4 } });
    await expect(run(13)).rejects.toMatchObject({
      code: 'OUTPUT_INVALID',
      message: /Fix the plugin/,
    });
  });

  it('types unknown actions, thrown errors and bad limits', async () => {
    await expect(
      sandbox.invokeAction({ ...base(), actionId: 'nope', input: {} }),
    ).rejects.toMatchObject({
      code: 'UNKNOWN_ACTION',
    });
    const probeRun = { ...base(), plugin: probe, actionId: 'run' };
    await expect(
      sandbox.invokeAction({
        ...probeRun,
        input: { script: 'const e = new Error("nope"); e.code = "UPSTREAM_409"; throw e;' },
      }),
    ).rejects.toMatchObject({
      code: 'ACTION_FAILED',
      details: { message: 'nope', pluginCode: 'UPSTREAM_409' },
    });
    // A plugin cannot pass off its own error as a host refusal.
    await expect(
      sandbox.invokeAction({
        ...probeRun,
        input: {
          script:
            'const e = new Error("x"); e.name = "HostError"; e.code = "FORBIDDEN"; e.hostRef = 1; throw e;',
        },
      }),
    ).rejects.toMatchObject({ code: 'ACTION_FAILED' });
    await expect(
      sandbox.invokeAction({
        ...probeRun,
        input: { script: 'return 1' },
        limits: { stackBytes: 0 },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_LIMITS' });
    await expect(
      sandbox.invokeAction({
        ...probeRun,
        input: { script: 'return 1' },
        limits: { stackBytes: 1024 * 1024 },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_LIMITS' });
  });

  it('reports a broken bundle as BUNDLE_INVALID', async () => {
    await expect(
      sandbox.invokeAction({
        ...base(),
        plugin: verifiedFromCode('throw new Error("bad bundle")', echo.manifest),
        input: { url: 'x' },
      }),
    ).rejects.toMatchObject({
      code: 'BUNDLE_INVALID',
    });
    await expect(
      sandbox.invokeAction({
        ...base(),
        plugin: verifiedFromCode('var __rosterPlugin = {};', echo.manifest),
        input: { url: 'x' },
      }),
    ).rejects.toMatchObject({
      code: 'UNKNOWN_ACTION',
    });
  });

  it('runs concurrent invocations, each in its own runtime', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        sandbox.invokeAction({
          ...base(),
          input: { url: `http://api.peer.test:${peer.port}/n/${i}` },
        }),
      ),
    );
    expect(results.map((r) => (r.output as { body: { path: string } }).body.path)).toEqual(
      Array.from({ length: 8 }, (_, i) => `/n/${i}`),
    );
  });

  it('caps host calls per invocation', async () => {
    await expect(
      sandbox.invokeAction({
        ...base(),
        plugin: probe,
        actionId: 'run',
        grantedScopes: ['http', 'kv'],
        input: {
          script:
            'for (let i = 0; i < 5; i++) { try { await ctx.kv.get("k"); } catch (e) { if (i === 4) throw e; } }',
        },
        limits: { maxHostCalls: 3 },
      }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN', message: /More than 3 host calls/ });
  });
});

describe('cancellation', () => {
  const hang = (path: string, signal: AbortSignal) =>
    sandbox.invokeAction({
      ...base(),
      input: { url: `http://api.peer.test:${peer.port}${path}` },
      limits: { timeoutMs: 10_000 },
      signal,
    });
  const sawPath = (path: string) => peer.seen.some((seen) => seen.url === path);

  it('stops an action waiting on HTTP when its signal aborts, closing the request', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = hang('/hang/in-process', controller.signal);
    while (!sawPath('/hang/in-process')) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(Date.now() - started).toBeLessThan(2000);
    const closedBy = Date.now() + 2000;
    while (!hangClosed.has('/hang/in-process') && Date.now() < closedBy)
      await new Promise((resolve) => setTimeout(resolve, 5));
    expect(hangClosed.has('/hang/in-process')).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('keeps no listener on a signal once its invocation settles', async () => {
    const shared = new AbortController();
    for (let i = 0; i < 3; i++) {
      await sandbox.invokeAction({
        ...base(),
        input: { url: `http://api.peer.test:${peer.port}/ok/${i}` },
        signal: shared.signal,
      });
    }
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
  });

  it('runs nothing for an already aborted signal', async () => {
    await expect(hang('/hang/pre', AbortSignal.abort())).rejects.toMatchObject({
      code: 'CANCELLED',
    });
    expect(sawPath('/hang/pre')).toBe(false);
  });
});
