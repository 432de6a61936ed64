import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineConnector } from './connector-check.js';
import { defineAction } from './define.js';
import { runAction } from './harness.js';

let server: Server;
let base: string;
const seen: { url?: string; auth?: string; key?: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({
        url: req.url,
        auth: req.headers.authorization,
        key: req.headers['idempotency-key'] as string | undefined,
        body,
      });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: 'msg-42', echoed: body ? JSON.parse(body) : null }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const connector = defineConnector({
  id: 'acme-chat',
  name: 'Acme Chat',
  version: '1.0.0',
  description: 'Posts messages',
  capabilities: { http: { hosts: ['api.acme.test'] }, kv: {} },
  connection: { schema: z.object({ token: z.string() }) },
  actions: {
    post: defineAction({
      title: 'Post a message',
      uses: ['http', 'kv'],
      input: z.object({ text: z.string().min(1) }),
      output: z.object({ id: z.string(), count: z.number() }),
      async run(ctx, input) {
        const res = await ctx.http.fetch('https://api.acme.test/v1/messages?x=1', {
          method: 'POST',
          headers: {
            authorization: `Bearer ${ctx.secrets.token}`,
            'idempotency-key': ctx.idempotencyKey,
          },
          json: { text: input.text },
        });
        const count = ((await ctx.kv.get<number>('count')) ?? 0) + 1;
        await ctx.kv.set('count', count);
        ctx.log.info('posted', { status: res.status });
        return { id: res.json<{ id: string }>().id, count };
      },
    }),
    leak: defineAction({
      title: 'Calls a host it did not declare',
      uses: ['http'],
      input: z.object({}),
      output: z.object({}),
      async run(ctx) {
        await ctx.http.fetch('https://other.test/');
        return {};
      },
    }),
    badOutput: defineAction({
      title: 'Returns the wrong shape',
      input: z.object({}),
      output: z.object({ id: z.string() }),
      run: async () => ({ id: 7 }) as unknown as { id: string },
    }),
  },
});

describe('runAction', () => {
  it('runs an action against a local server with secrets, idempotency key, kv and logs', async () => {
    const options = {
      connection: { token: 't0k' },
      hosts: { 'api.acme.test': base },
      idempotencyKey: 'run-1/step-2/1',
    };
    const first = await runAction(connector, 'post', { text: 'hello' }, options);
    expect(first.output).toEqual({ id: 'msg-42', count: 1 });
    expect(first.logs).toEqual([{ level: 'info', message: 'posted', fields: { status: 200 } }]);
    expect(first.requests[0]).toMatchObject({
      method: 'POST',
      url: 'https://api.acme.test/v1/messages?x=1',
      sentTo: `${base}/v1/messages?x=1`,
    });
    expect(seen.at(-1)).toEqual({
      url: '/v1/messages?x=1',
      auth: 'Bearer t0k',
      key: 'run-1/step-2/1',
      body: '{"text":"hello"}',
    });
  });

  it('types its errors: invalid input, invalid connection, undeclared host, bad output, not granted', async () => {
    const hosts = { 'api.acme.test': base };
    await expect(
      runAction(connector, 'post', { text: '' }, { connection: { token: 'x' }, hosts }),
    ).rejects.toMatchObject({
      code: 'INPUT_INVALID',
    });
    await expect(runAction(connector, 'post', { text: 'a' }, { hosts })).rejects.toMatchObject({
      code: 'INPUT_INVALID',
    });
    await expect(
      runAction(connector, 'leak', {}, { connection: { token: 'x' } }),
    ).rejects.toMatchObject({
      code: 'EGRESS_DENIED',
    });
    await expect(
      runAction(connector, 'badOutput', {}, { connection: { token: 'x' } }),
    ).rejects.toMatchObject({
      code: 'OUTPUT_INVALID',
    });
    await expect(
      runAction(
        connector,
        'post',
        { text: 'a' },
        { connection: { token: 'x' }, hosts, grantedScopes: ['http'] },
      ),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(runAction(connector, 'nope', {})).rejects.toMatchObject({
      code: 'UNKNOWN_ACTION',
    });
  });
});
