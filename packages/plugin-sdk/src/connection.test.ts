import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineConnector } from './connector-check.js';
import { defineAction } from './define.js';
import { runAction } from './harness.js';
import { toManifest } from './manifest.js';

const ping = defineAction({
  title: 'Ping',
  uses: ['http'],
  input: z.object({}),
  output: z.object({ status: z.number() }),
  async run(ctx) {
    const res = await ctx.http.fetch(`${ctx.secrets.baseUrl}/ping`);
    return { status: res.status };
  },
});

const selfHosted = {
  id: 'self-hosted',
  name: 'Self-hosted',
  version: '1.0.0',
  description: 'Talks to a URL the tenant enters',
  capabilities: { http: { hosts: [], hostsFromConnection: ['baseUrl'] } },
  connection: { schema: z.object({ baseUrl: z.url() }), test: 'ping' },
  actions: { ping },
};

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((_req, res) => res.end('pong'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('connection test and hosts from the connection', () => {
  it('puts the test action and URL fields into the manifest', () => {
    const manifest = toManifest(defineConnector(selfHosted));
    expect(manifest.connection?.test).toBe('ping');
    expect(manifest.capabilities.http).toEqual({ hosts: [], hostsFromConnection: ['baseUrl'] });
  });

  it('refuses a test that names no action, and URL fields missing from the schema', () => {
    expect(() =>
      defineConnector({ ...selfHosted, connection: { ...selfHosted.connection, test: 'nope' } }),
    ).toThrow(/connection\.test names "nope"/);
    expect(() =>
      toManifest(
        defineConnector({ ...selfHosted, connection: { schema: z.object({ url: z.url() }) } }),
      ),
    ).toThrow(/no such field/);
    const { connection: _none, ...withoutConnection } = selfHosted;
    expect(() => defineConnector(withoutConnection)).toThrow(/has no connection/);
  });

  it('lets the harness reach the host the tenant entered, and no other', async () => {
    const connector = defineConnector(selfHosted);
    const ok = await runAction(
      connector,
      'ping',
      {},
      { connection: { baseUrl: base }, allowLoopback: true },
    );
    expect(ok.output).toEqual({ status: 200 });
    const other = defineConnector({
      ...selfHosted,
      actions: {
        ping: defineAction({
          ...ping,
          async run(ctx) {
            const res = await ctx.http.fetch('http://localhost:1/elsewhere');
            return { status: res.status };
          },
        }),
      },
    });
    await expect(
      runAction(other, 'ping', {}, { connection: { baseUrl: base }, allowLoopback: true }),
    ).rejects.toMatchObject({ code: 'EGRESS_DENIED' });
  });
});
