import { createTenant, createTestDatabase } from '@roster/testkit';
import nodemailer, { type Transporter } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow } from '../test/fixtures.js';
import { type InboundEmail, startInboundEmail } from './inbound-email.js';

// A real SMTP conversation on loopback: nodemailer sends, the listener starts runs (no worker
// pool is needed: a started run exists as soon as startRun commits).
const db = await createTestDatabase();
const acme = await createTenant(db.ownerPool, 'Acme');
const globex = await createTenant(db.ownerPool, 'Globex');
const DEFINITION = {
  start: 'a',
  steps: { a: { type: 'transform' as const, value: 'input.subject', end: true } },
};
let inbound: InboundEmail;
let transport: Transporter;

async function emailTrigger(tenantId: string, workflowId: string, localPart: string) {
  await db.ownerPool.query(
    'INSERT INTO email_triggers (tenant_id, workflow_id, local_part) VALUES ($1, $2, $3)',
    [tenantId, workflowId, localPart],
  );
}

async function runsOf(workflowId: string) {
  const { rows } = await db.ownerPool.query<{ tenant_id: string; input: Record<string, unknown> }>(
    'SELECT tenant_id, input FROM runs WHERE workflow_id = $1 ORDER BY created_at',
    [workflowId],
  );
  return rows;
}

beforeAll(async () => {
  inbound = await startInboundEmail({ pool: db.appPool, port: 0, host: '127.0.0.1' });
  transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: inbound.port,
    secure: false,
    ignoreTLS: true,
  });
});
afterAll(async () => {
  transport?.close();
  await inbound?.close();
  await db.drop();
});

describe('inbound e-mail trigger', () => {
  it('starts a run of the bound workflow with the message in its input', async () => {
    const wf = await createWorkflow(db.ownerPool, acme.id, DEFINITION);
    await emailTrigger(acme.id, wf, 'orders-7f3a');
    const info = await transport.sendMail({
      from: 'Alice <alice@customer.test>',
      to: 'Orders-7F3A@inbound.roster.test',
      subject: 'Order 1234 is late',
      text: 'Where is my parcel?',
    });
    expect(info.accepted).toEqual(['Orders-7F3A@inbound.roster.test']);
    const runs = await runsOf(wf);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.tenant_id).toBe(acme.id);
    expect(runs[0]?.input).toMatchObject({
      from: 'Alice <alice@customer.test>',
      to: 'Orders-7F3A@inbound.roster.test',
      subject: 'Order 1234 is late',
      messageId: info.messageId,
    });
    expect(String(runs[0]?.input.text)).toContain('Where is my parcel?');
  });

  it('refuses an unknown recipient with 550 and starts nothing', async () => {
    const before = await db.ownerPool.query('SELECT count(*)::int AS n FROM runs');
    const err = await transport
      .sendMail({
        from: 'x@customer.test',
        to: 'nobody@inbound.roster.test',
        subject: 'hi',
        text: 'hi',
      })
      .then(
        () => null,
        (e: { responseCode?: number }) => e,
      );
    expect(err?.responseCode).toBe(550);
    const after = await db.ownerPool.query('SELECT count(*)::int AS n FROM runs');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('refuses a disabled trigger address with 550', async () => {
    const wf = await createWorkflow(db.ownerPool, acme.id, DEFINITION);
    await emailTrigger(acme.id, wf, 'paused-1');
    await db.ownerPool.query(
      "UPDATE email_triggers SET enabled = false WHERE local_part = 'paused-1'",
    );
    const err = await transport
      .sendMail({ from: 'x@customer.test', to: 'paused-1@inbound.roster.test', text: 'hi' })
      .then(
        () => null,
        (e: { responseCode?: number }) => e,
      );
    expect(err?.responseCode).toBe(550);
    expect(await runsOf(wf)).toHaveLength(0);
  });

  it('starts one run when the same message is delivered twice', async () => {
    const wf = await createWorkflow(db.ownerPool, acme.id, DEFINITION);
    await emailTrigger(acme.id, wf, 'dup-test');
    const message = {
      from: 'bob@customer.test',
      to: 'dup-test@inbound.roster.test',
      subject: 'Once only',
      text: 'body',
      messageId: '<once-only-1@customer.test>',
    };
    await transport.sendMail(message);
    await transport.sendMail(message);
    const runs = await runsOf(wf);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.input.messageId).toBe('<once-only-1@customer.test>');
  });

  it('starts a run only in the tenant that owns the address', async () => {
    const acmeWf = await createWorkflow(db.ownerPool, acme.id, DEFINITION);
    const globexWf = await createWorkflow(db.ownerPool, globex.id, DEFINITION);
    await emailTrigger(acme.id, acmeWf, 'acme-inbox');
    await emailTrigger(globex.id, globexWf, 'globex-inbox');
    await transport.sendMail({
      from: 'carol@customer.test',
      to: 'globex-inbox@inbound.roster.test',
      subject: 'For Globex',
      text: 'hello',
    });
    const globexRuns = await runsOf(globexWf);
    expect(globexRuns).toHaveLength(1);
    expect(globexRuns[0]?.tenant_id).toBe(globex.id);
    expect(await runsOf(acmeWf)).toHaveLength(0);
    const { rows } = await db.ownerPool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM runs WHERE tenant_id = $1 AND input->>'subject' = 'For Globex'",
      [acme.id],
    );
    expect(rows[0]?.n).toBe(0);
  });

  it('refuses a message over the size limit with 552', async () => {
    const small = await startInboundEmail({ pool: db.appPool, port: 0, maxMessageBytes: 2048 });
    const wf = await createWorkflow(db.ownerPool, acme.id, DEFINITION);
    await emailTrigger(acme.id, wf, 'small-box');
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: small.port, ignoreTLS: true });
    try {
      const err = await t
        .sendMail({
          from: 'x@customer.test',
          to: 'small-box@inbound.roster.test',
          text: 'x'.repeat(10_000),
        })
        .then(
          () => null,
          (e: { responseCode?: number }) => e,
        );
      expect(err?.responseCode).toBe(552);
      expect(await runsOf(wf)).toHaveLength(0);
    } finally {
      t.close();
      await small.close();
    }
  });
});
