import { randomBytes, randomUUID } from 'node:crypto';
import {
  type AuditEvent,
  exportAudit,
  generateSigningKeyPair,
  recordAudit,
  signAuditDigest,
  systemAuditContext,
  verifyExport,
  writeCsv,
} from '@roster/audit';
import { withTenant } from '@roster/db';
import { type EngineOptions, ExecutorRegistry } from '@roster/engine';
import { createPersonalDataVault } from '@roster/governance';
import { createLocalKeyProvider } from '@roster/plugin-host';
import {
  type RunningWorkerPool,
  runWorkerPool,
  startInboundEmail,
  withPersonalData,
} from '@roster/worker';
import nodemailer from 'nodemailer';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestApi } from '../test/api-harness.js';
import { toGlobalId } from './graphql/global-id.js';

// Crypto-shredding end to end: an e-mail starts a run through the inbound e-mail trigger, the
// connector step sees the sender's address in plaintext, and everything stored holds it sealed.
// After eraseDataSubject the audit chain still verifies, and neither the database (every text
// and JSON column of every table, graphile_worker's included), the exports nor the logs hold the
// address; readers see [erased].

// Everything written to stdout/stderr during the file: the logs the test searches.
const captured: string[] = [];
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    captured.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof stream.write;
}

const keyProvider = createLocalKeyProvider({ masterKey: randomBytes(32).toString('base64') });
const vault = createPersonalDataVault(keyProvider);
const api = await startTestApi({ marketplace: { keyProvider, platformAdmins: [] } });
const { db } = api;
const owner = await api.signUp('Shredding');
const compliance = await api.addMember(owner.token, 'compliance');
const sealInput: EngineOptions['sealInput'] = (client, tenantId, input) =>
  vault.seal(client, tenantId, input);

/** What the connector step was given: the plaintext it needs to act. */
const seen: unknown[] = [];
const inner = new ExecutorRegistry().registerConnector(async (call) => {
  seen.push(call.input);
  const input = call.input as { from: string };
  return { output: { repliedTo: input.from, status: 'sent' } };
});
const worker: RunningWorkerPool = await runWorkerPool({
  appUrl: db.appUrl,
  executors: withPersonalData(inner, { pool: db.appPool, vault }),
  concurrency: 2,
  sweepMs: 100,
  pollIntervalMs: 100,
  sealInput,
});
const inbound = await startInboundEmail({
  pool: db.appPool,
  port: 0,
  host: '127.0.0.1',
  engine: { sealInput },
});
const transport = nodemailer.createTransport({
  host: '127.0.0.1',
  port: inbound.port,
  secure: false,
  ignoreTLS: true,
});
afterAll(async () => {
  transport.close();
  await inbound.close();
  await worker.stop();
});

/** Occurrences of `needle` (case-insensitive) in every text/json column of every table. */
async function scanDatabase(needle: string): Promise<{ total: number; where: string[] }> {
  const { rows: columns } = await db.ownerPool.query<{ s: string; t: string; c: string }>(
    `SELECT c.table_schema AS s, c.table_name AS t, c.column_name AS c
       FROM information_schema.columns c
       JOIN information_schema.tables t
         ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
      WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema')
        AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'USER-DEFINED')`,
  );
  let total = 0;
  const where: string[] = [];
  for (const { s, t, c } of columns) {
    const { rows } = await db.ownerPool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${s}"."${t}" WHERE "${c}"::text ILIKE $1`,
      [`%${needle}%`],
    );
    const n = rows[0]?.n ?? 0;
    if (n > 0) where.push(`${s}.${t}.${c}: ${n}`);
    total += n;
  }
  return { total, where };
}

const count = (haystack: string, needle: string) =>
  haystack.toLowerCase().split(needle.toLowerCase()).length - 1;

// One signing key for the file: the second export's digests chain onto the first's.
const keys = generateSigningKeyPair();

async function auditExport(): Promise<{ lines: string[]; csv: string }> {
  await signAuditDigest(db.appPool, owner.tenantId, keys.privateKeyPem);
  const lines: string[] = [];
  for await (const line of exportAudit(db.appPool, owner.tenantId, {
    from: new Date(0),
    to: new Date(),
    signingKey: keys.privateKeyPem,
  })) {
    lines.push(line);
  }
  const verified = await verifyExport(lines, [keys.publicKeyPem]);
  expect(verified, JSON.stringify(verified)).toMatchObject({ ok: true });
  const events = lines
    .map((l) => JSON.parse(l) as { type: string } & AuditEvent)
    .filter((r) => r.type === 'event');
  let csv = '';
  for await (const row of writeCsv(events)) csv += row;
  return { lines, csv };
}

async function readRun(runId: string) {
  const result = await api.gql(
    `query($id: ID!) { run(id: $id) { status input output steps { stepId output } } }`,
    { id: toGlobalId('Run', runId) },
    compliance.token,
  );
  expect(result.errors).toBeUndefined();
  return result.data?.run as {
    status: string;
    input: Record<string, unknown>;
    output: unknown;
    steps: { stepId: string; output: unknown }[];
  };
}

async function waitForRun(workflowId: string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const { rows } = await db.ownerPool.query<{ id: string; status: string }>(
      'SELECT id, status FROM runs WHERE workflow_id = $1',
      [workflowId],
    );
    if (rows[0] && ['succeeded', 'failed', 'cancelled'].includes(rows[0].status)) {
      expect(rows[0].status).toBe('succeeded');
      return rows[0].id;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the run did not finish');
}

describe('erasure of a data subject (crypto-shredding)', () => {
  it('an e-mail run sees the address; after eraseDataSubject nothing stored, exported or logged holds it, and the chain verifies', async () => {
    const email = `jane.${randomUUID().slice(0, 8)}@customer.test`;
    const workflowId = randomUUID();
    await db.ownerPool.query(
      'INSERT INTO workflows (tenant_id, id, name, latest_version) VALUES ($1, $2, $3, 1)',
      [owner.tenantId, workflowId, 'support-replies'],
    );
    await db.ownerPool.query(
      'INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition) VALUES ($1, $2, 1, $3)',
      [
        owner.tenantId,
        workflowId,
        {
          start: 'reply',
          steps: {
            reply: {
              type: 'connector',
              connector: 'test',
              action: 'reply',
              input: '{ "from": input.from, "text": input.text }',
              next: 'summary',
            },
            summary: {
              type: 'transform',
              value: '{ "customer": input.from, "status": steps.reply.output.status }',
              end: true,
            },
          },
          output: 'steps.summary.output',
        },
      ],
    );
    const localPart = `support-${randomBytes(4).toString('hex')}`;
    await db.ownerPool.query(
      'INSERT INTO email_triggers (tenant_id, workflow_id, local_part) VALUES ($1, $2, $3)',
      [owner.tenantId, workflowId, localPart],
    );
    await transport.sendMail({
      from: `Jane Doe <${email}>`,
      to: `${localPart}@inbound.roster.test`,
      subject: 'Where is my order?',
      text: `Please write back to ${email} about order 1234.`,
    });
    const runId = await waitForRun(workflowId);

    // The step that acts saw the plaintext; what is stored holds it sealed.
    expect(JSON.stringify(seen)).toContain(email);
    const { rows: stored } = await db.ownerPool.query<{ input: unknown; output: unknown }>(
      'SELECT input, output FROM runs WHERE id = $1',
      [runId],
    );
    expect(JSON.stringify(stored[0])).not.toContain(email);
    expect(JSON.stringify(stored[0])).toContain('[[pd1:');

    // A service records an event about the subject: its payload is sealed the same way.
    await withTenant(db.appPool, owner.tenantId, async ({ client }) => {
      await recordAudit(client, owner.tenantId, systemAuditContext('test'), {
        action: 'reply.sent',
        subject: { type: 'Run', id: runId },
        runId,
        data: (await vault.seal(client, owner.tenantId, { to: email })) as { to: string },
      });
    });

    // Authorised readers see the plaintext.
    const before = await readRun(runId);
    expect(before.input.from).toBe(`Jane Doe <${email}>`);
    expect(before.output).toEqual({ customer: `Jane Doe <${email}>`, status: 'sent' });
    expect(before.steps.find((s) => s.stepId === 'reply')?.output).toEqual({
      repliedTo: `Jane Doe <${email}>`,
      status: 'sent',
    });
    const exportBefore = await auditExport();
    expect(count(exportBefore.lines.join('\n'), '[[pd1:')).toBeGreaterThan(0);

    // The scan finds what is there: a value stored unsealed (the owner's sign-in address) and
    // the sealed tokens, so a zero for the subject's address means something.
    expect((await scanDatabase(owner.email)).total).toBeGreaterThan(0);
    expect((await scanDatabase('[[pd1:')).total).toBeGreaterThan(2);

    const erased = await api.gql(
      `mutation($i: EraseDataSubjectInput!) { eraseDataSubject(input: $i) { certificate { id subjectId keysDestroyed alreadyErased } } }`,
      { i: { email: email.toUpperCase() } },
      compliance.token,
    );
    expect(erased.errors).toBeUndefined();
    const certificate = erased.data?.eraseDataSubject.certificate;
    expect(certificate).toMatchObject({ keysDestroyed: 1, alreadyErased: false });

    // The chain still verifies (auditExport asserts it) and no export holds the address.
    const after = await auditExport();
    expect(count(after.lines.join('\n'), email)).toBe(0);
    expect(count(after.csv, email)).toBe(0);
    expect(count(after.lines.join('\n'), '[[pd1:')).toBeGreaterThan(0);
    const erasureEvents = after.lines
      .map((l) => JSON.parse(l) as { type: string; action?: string; subject?: { id: string } })
      .filter((r) => r.action === 'dataSubject.erased');
    expect(erasureEvents).toHaveLength(1);
    expect(erasureEvents[0]?.subject?.id).toBe(certificate.subjectId);

    // Nowhere in the database, and not in the logs.
    const scan = await scanDatabase(email);
    expect(scan.where).toEqual([]);
    expect(scan.total).toBe(0);
    expect(count(captured.join(''), email)).toBe(0);

    // Readers see [erased] where the subject's data was; the rest of the run is intact.
    const shown = await readRun(runId);
    expect(shown.input.from).toBe('Jane Doe <[erased]>');
    expect(shown.input.subject).toBe('Where is my order?');
    expect(shown.output).toEqual({ customer: 'Jane Doe <[erased]>', status: 'sent' });
    expect(shown.steps.find((s) => s.stepId === 'reply')?.output).toEqual({
      repliedTo: 'Jane Doe <[erased]>',
      status: 'sent',
    });

    // A repeat certifies again and destroys nothing more.
    const again = await api.gql(
      `mutation($i: EraseDataSubjectInput!) { eraseDataSubject(input: $i) { certificate { subjectId keysDestroyed alreadyErased } } }`,
      { i: { email } },
      owner.token,
    );
    expect(again.data?.eraseDataSubject.certificate).toEqual({
      subjectId: certificate.subjectId,
      keysDestroyed: 0,
      alreadyErased: true,
    });
  });

  it('startRun through the API stores the input sealed; a repeat with the same key is the same run', async () => {
    const email = `api.${randomUUID().slice(0, 8)}@customer.test`;
    const workflowId = randomUUID();
    await db.ownerPool.query(
      'INSERT INTO workflows (tenant_id, id, name, latest_version) VALUES ($1, $2, $3, 1)',
      [owner.tenantId, workflowId, `api-${workflowId.slice(0, 8)}`],
    );
    await db.ownerPool.query(
      'INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition) VALUES ($1, $2, 1, $3)',
      [
        owner.tenantId,
        workflowId,
        { start: 'w', steps: { w: { type: 'wait', duration: '1h', end: true } } },
      ],
    );
    const start = () =>
      api.gql(
        `mutation($i: StartRunInput!) { startRun(input: $i) { created run { id input } } }`,
        {
          i: {
            workflowId: toGlobalId('Workflow', workflowId),
            input: { customer: email },
            idempotencyKey: `k-${workflowId}`,
          },
        },
        owner.token,
      );
    const first = await start();
    expect(first.errors).toBeUndefined();
    expect(first.data?.startRun).toMatchObject({
      created: true,
      run: { input: { customer: email } },
    });
    const { rows } = await db.ownerPool.query('SELECT input FROM runs WHERE workflow_id = $1', [
      workflowId,
    ]);
    expect(JSON.stringify(rows[0].input)).not.toContain(email);
    const again = await start();
    expect(again.data?.startRun).toMatchObject({
      created: false,
      run: { id: first.data?.startRun.run.id },
    });
  });

  it('refuses callers without delete on DataSubject and input that is not one address', async () => {
    const builder = await api.addMember(owner.token, 'builder');
    const denied = await api.gql(
      `mutation { eraseDataSubject(input: { email: "x@example.com" }) { certificate { id } } }`,
      {},
      builder.token,
    );
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const bad = await api.gql(
      `mutation { eraseDataSubject(input: { email: "two@example.com, three@example.com" }) { certificate { id } } }`,
      {},
      compliance.token,
    );
    expect(bad.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.email',
    });
  });
});
