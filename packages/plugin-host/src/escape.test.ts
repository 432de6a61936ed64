// The escape suite: each attempt must end in a typed error, and the host must keep serving.
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
import { PluginHostError } from './errors.js';
import type { HostCapabilities, KvCapability } from './host-bridge.js';
import { createHttpEgress } from './http-egress.js';
import { createSandbox } from './sandbox.js';
import type { VerifiedPlugin } from './verified-plugin.js';

installConnectGuard();
const probeEntry = fileURLToPath(new URL('../test/fixtures/probe.plugin.ts', import.meta.url));
const sandbox = createSandbox();
const guardTargets: string[] = [];
let peer: LoopbackPeer;
let probe: VerifiedPlugin;
let capabilities: HostCapabilities;
const kvData = new Map<string, unknown>();
const kv: KvCapability = {
  get: async (key) => kvData.get(key) ?? null,
  set: async (key, value) => {
    kvData.set(key, value);
  },
  delete: async (key) => {
    kvData.delete(key);
  },
  list: async (prefix) => [...kvData.keys()].filter((k) => k.startsWith(prefix)),
};

beforeAll(async () => {
  peer = await startPeer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ hello: 'from peer', host: req.headers.host }));
  });
  probe = await verifiedBundle(probeEntry);
  capabilities = {
    // The operator allow-list names the local peer by host name only: 127.0.0.1 itself,
    // and other names resolving to it, stay blocked.
    http: createHttpEgress({
      policy: createEgressPolicy({ allow: ['api.peer.test'] }),
      resolve: testResolver,
      connectGuard: ({ address }) => {
        guardTargets.push(address);
        if (address !== '127.0.0.1' && address !== '::1')
          throw new Error(`non-loopback connect to ${address}`);
      },
      timeoutMs: 2000,
    }),
    kv,
  };
}, 60_000);

afterAll(async () => {
  await peer.close();
  // No socket to a non-loopback address was attempted anywhere in this file.
  expect(connectViolations).toEqual([]);
  expect(guardTargets.every((a) => a === '127.0.0.1')).toBe(true);
});

function run(script: string, options: { timeoutMs?: number; granted?: ('http' | 'kv')[] } = {}) {
  return sandbox.invokeAction({
    plugin: probe,
    actionId: 'run',
    input: { script },
    grantedScopes: options.granted ?? ['http', 'kv'],
    idempotencyKey: 'run-1/step-1/1',
    limits: { timeoutMs: options.timeoutMs ?? 2000 },
    capabilities,
  });
}

async function expectCode(promise: Promise<unknown>, code: string, message?: RegExp) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PluginHostError);
  expect((error as PluginHostError).code).toBe(code);
  if (message) expect((error as PluginHostError).message).toMatch(message);
}

async function expectStillServing() {
  const result = await run(
    `const r = await ctx.http.fetch('http://api.peer.test:${peer.port}/ok'); return r.json();`,
  );
  expect(result.output).toEqual({
    result: { hello: 'from peer', host: `api.peer.test:${peer.port}` },
  });
}

describe('sandbox escape suite', () => {
  it('reaches a declared, allow-listed peer (pinned to the checked address, Host kept)', async () => {
    await expectStillServing();
    expect(peer.seen.at(-1)?.headers.host).toBe(`api.peer.test:${peer.port}`);
  });

  it('has no process, require, host bridge or Node globals', async () => {
    const result =
      await run(`return [typeof process, typeof require, typeof module, typeof globalThis.__rosterCall,
      typeof globalThis.__rosterSettle, typeof setTimeout, typeof fetch, typeof Buffer, typeof WebAssembly].join(',')`);
    expect(result.output).toEqual({
      result:
        'undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined',
    });
    await expectStillServing();
  });

  it('constructor.constructor and Function("return this") only reach the guest global', async () => {
    const result = await run(`
      const viaCtor = ({}).constructor.constructor('return typeof process')();
      const viaAsync = (async function () {}).constructor('return typeof require');
      const g = Function('return this')();
      return [viaCtor, await viaAsync(), typeof g.process, Object.keys(g).filter((k) => k.startsWith('__roster') && k !== '__rosterPlugin').length].join(',');`);
    expect(result.output).toEqual({ result: 'undefined,undefined,undefined,0' });
    await expectStillServing();
  });

  it('cannot load host modules', async () => {
    await expectCode(run(`return await import('std');`), 'ACTION_FAILED');
    await expectCode(run(`return await import('node:fs');`), 'ACTION_FAILED');
    await expectStillServing();
  });

  it.each([
    ['an undeclared host', 'https://undeclared.example/', /not declared/],
    ['127.0.0.1', 'http://127.0.0.1:PORT/', /loopback/],
    ['::1', 'http://[::1]:PORT/', /loopback/],
    ['a name resolving to loopback', 'http://loop.example:PORT/', /loopback/],
    ['a name resolving to ::1', 'http://v6loop.example:PORT/', /loopback/],
    ['a name resolving to 10.0.0.1', 'http://evil.example/', /private/],
    ['a name resolving to 169.254.169.254', 'http://meta.example/latest/meta-data/', /link-local/],
  ])('refuses http.fetch to %s with EGRESS_DENIED', async (_case, url, reason) => {
    const target = url.replace('PORT', String(peer.port));
    const before = peer.seen.length;
    await expectCode(
      run(`return (await ctx.http.fetch(${JSON.stringify(target)})).status;`),
      'EGRESS_DENIED',
      reason,
    );
    expect(peer.seen.length).toBe(before);
    await expectStillServing();
  });

  it('lets the plugin catch a refusal without gaining anything', async () => {
    const result =
      await run(`try { await ctx.http.fetch('http://evil.example/'); return 'reached'; }
      catch (e) { return e.code; }`);
    expect(result.output).toEqual({ result: 'EGRESS_DENIED' });
  });

  it('stops an infinite loop within its budget + 1 s', async () => {
    const started = Date.now();
    await expectCode(run('while (true) {}', { timeoutMs: 500 }), 'TIMEOUT');
    expect(Date.now() - started).toBeLessThan(500 + 1000);
    await expectStillServing();
  });

  it('stops a loop that keeps awaiting (the deadline covers microtasks too)', async () => {
    const started = Date.now();
    await expectCode(run('for (;;) { await null; }', { timeoutMs: 500 }), 'TIMEOUT');
    expect(Date.now() - started).toBeLessThan(1500);
    await expectStillServing();
  });

  it.each([
    ['a 2 GB ArrayBuffer', 'return new ArrayBuffer(2 * 1024 * 1024 * 1024).byteLength;'],
    ['a 1.5 GB typed array', 'return new Uint8Array(1.5 * 1024 * 1024 * 1024).length;'],
    ['a growing array', 'const a = []; for (let i = 0; ; i++) a.push({ i, s: "x" + i });'],
    ['a doubling string', 'let s = "x"; for (;;) s += s;'],
  ])('contains %s with MEMORY_LIMIT', async (_case, script) => {
    await expectCode(run(script, { timeoutMs: 5000 }), 'MEMORY_LIMIT');
    await expectStillServing();
  });

  it('contains deep recursion with STACK_OVERFLOW', async () => {
    await expectCode(run('function f(n) { return f(n + 1) + 1; } return f(0);'), 'STACK_OVERFLOW');
    await expectStillServing();
  });

  it('refuses a capability the installation did not grant with FORBIDDEN', async () => {
    await expectCode(
      run(`return await ctx.kv.get('k');`, { granted: ['http'] }),
      'FORBIDDEN',
      /not granted/,
    );
    const granted = await run(`await ctx.kv.set('k', 41); return (await ctx.kv.get('k')) + 1;`);
    expect(granted.output).toEqual({ result: 42 });
    await expectStillServing();
  });

  it('gives no ctx entry for capabilities the action does not use', async () => {
    const result = await run(
      'return [typeof ctx.sql, typeof ctx.smtp, Object.isFrozen(ctx)].join(",");',
    );
    expect(result.output).toEqual({ result: 'undefined,undefined,true' });
  });

  it('keeps serving after a burst of failures (no leaked state between invocations)', async () => {
    await run('globalThis.leak = 1; return 1;');
    const result = await run('return typeof globalThis.leak;');
    expect(result.output).toEqual({ result: 'undefined' });
  });
});
