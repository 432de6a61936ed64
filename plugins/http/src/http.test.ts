import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  checkConformance,
  createEgressPolicy,
  createHttpEgress,
  createSandbox,
  generatePublisherKey,
  packPlugin,
  publicKeyOf,
  verifyPackage,
} from '@roster/plugin-host';
import { runAction } from '@roster/plugin-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import connector from './index.js';

const entry = fileURLToPath(new URL('./index.ts', import.meta.url));
const report = await checkConformance(entry);
const seen: { method?: string; url?: string; auth?: string; key?: string; body: string }[] = [];
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push({
        method: req.method,
        url: req.url,
        auth: req.headers.authorization,
        key: req.headers['idempotency-key'] as string | undefined,
        body,
      });
      if (req.url?.startsWith('/v1/items')) {
        res.setHeader('content-type', 'application/json');
        res.statusCode = req.method === 'POST' ? 201 : 200;
        res.end(JSON.stringify({ got: body ? JSON.parse(body) : null, url: req.url }));
      } else if (req.url === '/v1/') {
        res.end('ready');
      } else {
        res.statusCode = 404;
        res.end('not here');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('conformance', () => {
  for (const result of report.results) {
    it(result.check, () => expect(result.problems).toEqual([]));
  }
});

describe('through the SDK harness', () => {
  it('POSTs JSON with query, auth and idempotency key, and returns the parsed answer', async () => {
    const { output } = await runAction(
      connector,
      'request',
      { method: 'POST', path: '/items', query: { q: 'a b' }, json: { name: 'x' } },
      {
        connection: { baseUrl, authorization: 'Bearer abc' },
        allowLoopback: true,
        idempotencyKey: 'r1/s1/1',
      },
    );
    expect(output).toMatchObject({
      status: 201,
      body: { got: { name: 'x' }, url: '/v1/items?q=a%20b' },
    });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', auth: 'Bearer abc', key: 'r1/s1/1' });
  });

  it('tests the connection: ok for a live base URL, not ok for a missing path', async () => {
    const options = { connection: { baseUrl }, allowLoopback: true };
    expect((await runAction(connector, 'testConnection', {}, options)).output).toEqual({
      ok: true,
      status: 200,
    });
    expect(
      (await runAction(connector, 'testConnection', { path: '/nope' }, options)).output,
    ).toEqual({ ok: false, status: 404 });
  });
});

describe('through the sandbox (packed, signed, verified)', () => {
  const publisher = generatePublisherKey('roster');
  const sandbox = createSandbox();
  const capabilities = {
    http: createHttpEgress({ policy: createEgressPolicy({ allow: ['127.0.0.1'] }) }),
  };

  it('runs the same action from a verified package', async () => {
    const pkg = JSON.parse(JSON.stringify(packPlugin(report.bundle!, publisher)));
    const plugin = verifyPackage(pkg, [publicKeyOf(publisher)]);
    const result = await sandbox.invokeAction({
      plugin,
      actionId: 'request',
      input: { method: 'GET', path: 'items/7' },
      secrets: { baseUrl, authorization: 'Token t' },
      grantedScopes: ['http'],
      idempotencyKey: 'r2/s1/1',
      capabilities,
    });
    expect(result.output).toMatchObject({ status: 200, body: { url: '/v1/items/7' } });
    expect(seen.at(-1)).toMatchObject({ method: 'GET', auth: 'Token t', key: 'r2/s1/1' });
  });

  it('keeps the operator egress policy for a URL the tenant entered', async () => {
    const plugin = verifyPackage(packPlugin(report.bundle!, publisher), [publicKeyOf(publisher)]);
    const before = seen.length;
    await expect(
      sandbox.invokeAction({
        plugin,
        actionId: 'request',
        input: { path: `//localhost:${new URL(baseUrl).port}/v1/items` },
        secrets: { baseUrl: 'http://127.0.0.2:9/' },
        grantedScopes: ['http'],
        idempotencyKey: 'r3/s1/1',
        capabilities,
      }),
    ).rejects.toMatchObject({ code: 'EGRESS_DENIED' });
    expect(seen.length).toBe(before);
  });
});
