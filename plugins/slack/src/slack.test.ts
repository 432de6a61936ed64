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
const TOKEN = 'xoxb-test-token';
const posted: Record<string, unknown>[] = [];
let server: Server;
let baseUrl: string;

/** Speaks the Slack Web API wire format: POST /api/<method>, form or JSON body, Bearer token. */
function slackAnswer(method: string, auth: string | undefined, args: Record<string, unknown>) {
  if (auth !== `Bearer ${TOKEN}`) return { ok: false, error: 'invalid_auth' };
  switch (method) {
    case 'auth.test':
      return { ok: true, url: 'https://acme.slack.com/', team: 'Acme', user: 'roster-bot' };
    case 'chat.postMessage':
      if (args.channel !== 'C0GENERAL') return { ok: false, error: 'channel_not_found' };
      posted.push(args);
      return { ok: true, channel: 'C0GENERAL', ts: `1700000000.00000${posted.length}` };
    case 'conversations.open':
      return { ok: true, channel: { id: `D-${String(args.users).replaceAll(',', '-')}` } };
    default:
      return { ok: false, error: 'unknown_method' };
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const type = req.headers['content-type'] ?? '';
      const args = type.startsWith('application/json')
        ? (JSON.parse(body) as Record<string, unknown>)
        : Object.fromEntries(new URLSearchParams(body));
      const method = (req.url ?? '').replace(/^\/api\//, '');
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify(slackAnswer(method, req.headers.authorization, args)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('conformance', () => {
  for (const result of report.results) {
    it(result.check, () => expect(result.problems).toEqual([]));
  }
});

describe('through the SDK harness', () => {
  const options = () => ({ connection: { token: TOKEN, baseUrl }, allowLoopback: true });

  it('posts a message in a thread and opens a conversation', async () => {
    const { output } = await runAction(
      connector,
      'postMessage',
      { channel: 'C0GENERAL', text: 'Invoice 42 approved', threadTs: '1.2' },
      options(),
    );
    expect(output).toMatchObject({ channel: 'C0GENERAL', ts: expect.stringMatching(/^1700/) });
    expect(posted.at(-1)).toEqual({
      channel: 'C0GENERAL',
      text: 'Invoice 42 approved',
      thread_ts: '1.2',
    });
    const opened = await runAction(connector, 'openChannel', { users: ['U1', 'U2'] }, options());
    expect(opened.output).toEqual({ channel: 'D-U1-U2' });
  });

  it("turns Slack's ok:false answers into errors carrying Slack's code", async () => {
    await expect(
      runAction(connector, 'postMessage', { channel: 'C0NOPE', text: 'hi' }, options()),
    ).rejects.toMatchObject({ code: 'channel_not_found' });
    await expect(
      runAction(
        connector,
        'testConnection',
        {},
        {
          ...options(),
          connection: { token: 'xoxb-wrong', baseUrl },
        },
      ),
    ).rejects.toMatchObject({ code: 'invalid_auth' });
    expect((await runAction(connector, 'testConnection', {}, options())).output).toEqual({
      team: 'Acme',
      user: 'roster-bot',
    });
  });
});

describe('through the sandbox (packed, signed, verified)', () => {
  const publisher = generatePublisherKey('roster');
  const sandbox = createSandbox();
  const capabilities = {
    http: createHttpEgress({ policy: createEgressPolicy({ allow: ['127.0.0.1'] }) }),
  };
  const invoke = (actionId: string, input: unknown, token = TOKEN) =>
    sandbox.invokeAction({
      plugin: verifyPackage(JSON.parse(JSON.stringify(packPlugin(report.bundle!, publisher))), [
        publicKeyOf(publisher),
      ]),
      actionId,
      input,
      secrets: { token, baseUrl },
      grantedScopes: ['http'],
      idempotencyKey: 'run/step/1',
      capabilities,
    });

  it('posts a message and reports channel_not_found as the plugin error code', async () => {
    const result = await invoke('postMessage', { channel: 'C0GENERAL', text: 'from the sandbox' });
    expect(result.output).toMatchObject({ channel: 'C0GENERAL' });
    expect(posted.at(-1)).toMatchObject({ text: 'from the sandbox' });
    await expect(invoke('postMessage', { channel: 'C0NOPE', text: 'x' })).rejects.toMatchObject({
      code: 'ACTION_FAILED',
      details: { pluginCode: 'channel_not_found' },
    });
    await expect(invoke('testConnection', {}, 'bad')).rejects.toMatchObject({
      details: { pluginCode: 'invalid_auth' },
    });
  });
});
