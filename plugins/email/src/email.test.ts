import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  checkConformance,
  createEgressPolicy,
  createSandbox,
  createSmtpCapability,
  generatePublisherKey,
  type HostCallInfo,
  packPlugin,
  publicKeyOf,
  verifyPackage,
} from '@roster/plugin-host';
import { runAction } from '@roster/plugin-sdk';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import connector from './index.js';

const entry = fileURLToPath(new URL('./index.ts', import.meta.url));
const report = await checkConformance(entry);
const received: { from: string; to: string[]; data: string; user?: string }[] = [];
let server: SMTPServer;
let port: number;

beforeAll(async () => {
  // A real SMTP server on loopback: plain text, AUTH PLAIN/LOGIN allowed without TLS.
  server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === 'mailer' && auth.password === 'pw') callback(null, { user: 'mailer' });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      let data = '';
      stream.on('data', (chunk: Buffer) => {
        data += chunk.toString('utf8');
      });
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
          user: session.user as string | undefined,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const connection = () => ({
  host: '127.0.0.1',
  port: String(port),
  username: 'mailer',
  password: 'pw',
  from: 'robot@acme.test',
});

// What the worker does: read the SMTP server from the call's connection.
const smtp = (password = 'pw') =>
  createSmtpCapability({
    serverFor: () => ({ host: '127.0.0.1', port, auth: { user: 'mailer', pass: password } }),
    policy: createEgressPolicy({ allow: ['127.0.0.1'] }),
  });

const call: HostCallInfo = {
  pluginId: 'email',
  pluginVersion: '1.0.0',
  actionId: 'sendEmail',
  idempotencyKey: 'run-1/step-1/1',
};

describe('conformance', () => {
  for (const result of report.results) {
    it(result.check, () => expect(result.problems).toEqual([]));
  }
});

describe('through the SDK harness', () => {
  it('sends a message that the SMTP server receives, authenticated, with the idempotency key', async () => {
    const capability = smtp();
    const { output } = await runAction(
      connector,
      'sendEmail',
      { to: ['ops@acme.test'], cc: ['cfo@acme.test'], subject: 'Invoice 42', text: 'Approved.' },
      { connection: connection(), smtp: { send: (m) => capability.send(m, call) } },
    );
    expect(output).toMatchObject({ accepted: ['ops@acme.test', 'cfo@acme.test'] });
    const mail = received.at(-1)!;
    expect(mail).toMatchObject({
      from: 'robot@acme.test',
      to: ['ops@acme.test', 'cfo@acme.test'],
      user: 'mailer',
    });
    expect(mail.data).toMatch(/Subject: Invoice 42/);
    expect(mail.data).toMatch(/X-Roster-Idempotency-Key: run-1\/step-1\/1/);
  });

  it('refuses a message without a body, and reports a rejected login as SMTP_FAILED', async () => {
    const capability = smtp('wrong');
    const options = {
      connection: connection(),
      smtp: { send: (m: never) => capability.send(m, call) },
    };
    await expect(
      runAction(connector, 'sendEmail', { to: ['a@acme.test'], subject: 'x' }, options),
    ).rejects.toMatchObject({ code: 'EMPTY_BODY' });
    await expect(runAction(connector, 'testConnection', {}, options)).rejects.toMatchObject({
      code: 'SMTP_FAILED',
    });
  });
});

describe('through the sandbox (packed, signed, verified)', () => {
  it('sends through the host smtp capability; the connection test mails the sender', async () => {
    const publisher = generatePublisherKey('roster');
    const plugin = verifyPackage(
      JSON.parse(JSON.stringify(packPlugin(report.bundle!, publisher))),
      [publicKeyOf(publisher)],
    );
    const sandbox = createSandbox();
    const invoke = (actionId: string, input: unknown) =>
      sandbox.invokeAction({
        plugin,
        actionId,
        input,
        secrets: connection(),
        grantedScopes: ['smtp'],
        idempotencyKey: 'run-2/step-1/1',
        capabilities: { smtp: smtp() },
      });
    const sent = await invoke('sendEmail', {
      to: ['ops@acme.test'],
      subject: 'From the sandbox',
      html: '<p>hi</p>',
    });
    expect(sent.output).toMatchObject({ accepted: ['ops@acme.test'] });
    expect(received.at(-1)!.data).toMatch(/Subject: From the sandbox/);
    const tested = await invoke('testConnection', {});
    expect(tested.output).toMatchObject({ ok: true });
    expect(received.at(-1)).toMatchObject({ to: ['robot@acme.test'] });
    // Not granted: refused before anything is sent.
    const before = received.length;
    await expect(
      sandbox.invokeAction({
        plugin,
        actionId: 'sendEmail',
        input: { to: ['x@acme.test'], subject: 's', text: 't' },
        secrets: connection(),
        grantedScopes: [],
        idempotencyKey: 'run-3/step-1/1',
        capabilities: { smtp: smtp() },
      }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(received.length).toBe(before);
  });
});
