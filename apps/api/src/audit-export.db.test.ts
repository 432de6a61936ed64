// The compliance officer's audit export through the API: requestAuditExport enqueues the
// worker's job; once produced, the file is downloaded over GET /audit/exports/:id by callers
// who read AuditExport only, and the JSONL verifies with the real `roster audit verify`.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AUDIT_EXPORT_TASK,
  generateSigningKeyPair,
  keyIdOf,
  produceAuditExport,
} from '@roster/audit';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startTestApi } from '../test/api-harness.js';

// One test starts the real CLI (seconds on a shared 2-core machine).
vi.setConfig({ testTimeout: 120_000 });

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const api = await startTestApi();
const owner = await api.signUp('Audited');
const compliance = await api.addMember(owner.token, 'compliance');
const builder = await api.addMember(owner.token, 'builder');
const stranger = await api.signUp('Elsewhere');
const key = generateSigningKeyPair();
const dir = await mkdtemp(path.join(tmpdir(), 'roster-audit-api-'));

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

for (const name of ['one', 'two']) {
  await api.gql(
    `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { workflow { id } } }`,
    { i: { name: `audited-${name}` } },
    owner.token,
  );
}

const REQUEST = `mutation($i: RequestAuditExportInput!) {
  requestAuditExport(input: $i) { auditExport { id status format downloadUrl } } }`;
const STATUS = `query($id: ID!) { auditExport(id: $id) { status eventCount byteSize downloadUrl error } }`;

/** Requests an export of the last hour as `token`, then produces it as the worker would. */
async function exported(format: 'JSONL' | 'CSV' | 'PDF', token = compliance.token) {
  const from = new Date(Date.now() - 3600_000).toISOString();
  const to = new Date(Date.now() + 1000).toISOString();
  const requested = await api.gql(REQUEST, { i: { from, to, format } }, token);
  expect(requested.errors).toBeUndefined();
  const record = requested.data?.requestAuditExport.auditExport;
  expect(record).toMatchObject({ status: 'PENDING', format, downloadUrl: null });
  // The worker's job, as the mutation enqueued it.
  const { rows } = await api.db.ownerPool.query<{
    payload: { tenantId: string; exportId: string };
  }>(
    `SELECT j.payload FROM graphile_worker._private_jobs j
       JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      WHERE t.identifier = $1 AND j.payload->>'exportId' IS NOT NULL ORDER BY j.id DESC LIMIT 1`,
    [AUDIT_EXPORT_TASK],
  );
  const job = rows[0]!.payload;
  expect(job.tenantId).toBe(owner.tenantId);
  const produced = await produceAuditExport(
    api.db.appPool,
    job.tenantId,
    job.exportId,
    key.privateKeyPem,
  );
  if (produced !== 'ready') {
    const failed = await api.gql(STATUS, { id: record.id }, token);
    throw new Error(`export ${produced}: ${failed.data?.auditExport.error}`);
  }
  const status = await api.gql(STATUS, { id: record.id }, token);
  return { id: record.id as string, ...status.data?.auditExport };
}

function download(url: string, token?: string) {
  return api.app.inject({
    method: 'GET',
    url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}

function rosterCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['apps/cli/bin/roster.js', ...args],
      { cwd: repoRoot, timeout: 100_000 },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
          stdout,
          stderr,
        });
      },
    );
  });
}

describe('audit export through the API', () => {
  let jsonl: Awaited<ReturnType<typeof exported>>;

  it('produces a JSONL export that the compliance officer downloads and `roster audit verify` accepts', async () => {
    jsonl = await exported('JSONL');
    expect(jsonl.status).toBe('READY');
    expect(jsonl.eventCount).toBeGreaterThanOrEqual(2);
    expect(jsonl.downloadUrl).toBe(`/audit/exports/${jsonl.id}`);
    const response = await download(jsonl.downloadUrl, compliance.token);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('application/x-ndjson');
    expect(response.rawPayload.length).toBe(jsonl.byteSize);
    const file = path.join(dir, 'export.jsonl');
    const pub = path.join(dir, 'audit.pub');
    await writeFile(file, response.rawPayload);
    await writeFile(pub, key.publicKeyPem);
    const verified = await rosterCli('audit', 'verify', file, '--public-key', pub);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/verified/i);
    // A byte changed in the download no longer verifies.
    const text = response.rawPayload.toString('utf8');
    await writeFile(file, text.replace('audited-one', 'audited-0ne'));
    expect((await rosterCli('audit', 'verify', file, '--public-key', pub)).code).not.toBe(0);
  });

  it('records who downloaded it', async () => {
    const { rows } = await api.db.ownerPool.query(
      `SELECT actor_id FROM audit_events WHERE tenant_id = $1 AND kind = 'auditExport.downloaded'`,
      [owner.tenantId],
    );
    expect(rows.map((r) => r.actor_id)).toContain(compliance.userId);
  });

  it('refuses the download without a credential (401), to a builder (403), and across tenants (404)', async () => {
    expect((await download(jsonl.downloadUrl)).statusCode).toBe(401);
    expect((await download(jsonl.downloadUrl, 'rs_not-a-token')).statusCode).toBe(401);
    const forbidden = await download(jsonl.downloadUrl, builder.token);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.code).toBe('FORBIDDEN');
    const elsewhere = await download(jsonl.downloadUrl, stranger.token);
    expect(elsewhere.statusCode).toBe(404);
    expect(elsewhere.rawPayload.toString()).not.toContain('audited-one');
    const status = await api.gql(STATUS, { id: jsonl.id }, stranger.token);
    expect(status.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await download('/audit/exports/not-an-id', owner.token)).statusCode).toBe(404);
  });

  it('refuses requestAuditExport to a builder and a period that ends before it starts', async () => {
    const asBuilder = await api.gql(
      REQUEST,
      { i: { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', format: 'CSV' } },
      builder.token,
    );
    expect(asBuilder.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const backwards = await api.gql(
      REQUEST,
      { i: { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z', format: 'CSV' } },
      compliance.token,
    );
    expect(backwards.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.from',
    });
  });

  it('produces CSV and PDF reports from the verified export', async () => {
    const csv = await exported('CSV');
    const csvBody = (await download(csv.downloadUrl, compliance.token)).rawPayload.toString('utf8');
    const [header, ...rows] = csvBody.trimEnd().split('\r\n');
    expect(header).toContain('action');
    expect(rows.some((r) => r.includes('workflow.created'))).toBe(true);
    const pdf = await exported('PDF', owner.token);
    const pdfBody = await download(pdf.downloadUrl, owner.token);
    expect(pdfBody.headers['content-type']).toBe('application/pdf');
    expect(pdfBody.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('lists audit events with filters and pagination, and signed digests', async () => {
    const events = await api.gql(
      `query($a: String, $after: String) { auditEvents(first: 1, action: $a, after: $after) {
         nodes { id action actorType actorId seq data } pageInfo { hasNextPage endCursor } } }`,
      { a: 'workflow.created' },
      compliance.token,
    );
    const first = events.data?.auditEvents;
    expect(first.nodes).toHaveLength(1);
    expect(first.nodes[0]).toMatchObject({ action: 'workflow.created', actorId: owner.userId });
    expect(first.nodes[0].seq).toBeGreaterThan(0);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const next = await api.gql(
      `query($a: String, $after: String) { auditEvents(first: 5, action: $a, after: $after) {
         nodes { id action } pageInfo { hasNextPage } } }`,
      { a: 'workflow.created', after: first.pageInfo.endCursor },
      compliance.token,
    );
    expect(next.data?.auditEvents.nodes).toHaveLength(1);
    expect(next.data?.auditEvents.nodes[0].id).not.toBe(first.nodes[0].id);
    const prefix = await api.gql(
      `{ auditEvents(first: 100, action: "auditExport.") { nodes { action } } }`,
      {},
      compliance.token,
    );
    const actions = new Set(
      prefix.data?.auditEvents.nodes.map((n: { action: string }) => n.action),
    );
    expect([...actions].sort()).toEqual(['auditExport.downloaded', 'auditExport.requested']);
    const byActor = await api.gql(
      `query($actor: String) { auditEvents(first: 100, actorId: $actor) { nodes { actorId } } }`,
      { actor: compliance.userId },
      compliance.token,
    );
    expect(byActor.data?.auditEvents.nodes.length).toBeGreaterThan(0);
    expect(
      byActor.data?.auditEvents.nodes.every(
        (n: { actorId: string }) => n.actorId === compliance.userId,
      ),
    ).toBe(true);
    const future = await api.gql(
      `{ auditEvents(first: 5, from: "2099-01-01T00:00:00Z") { nodes { id } } }`,
      {},
      compliance.token,
    );
    expect(future.data?.auditEvents.nodes).toEqual([]);
    const digests = await api.gql(
      `{ auditDigests(first: 10) { nodes { seq headSeq keyId record } } }`,
      {},
      compliance.token,
    );
    const nodes = digests.data?.auditDigests.nodes;
    expect(nodes.length).toBeGreaterThan(0);
    expect(nodes[0].keyId).toBe(keyIdOf(key.publicKeyPem));
    expect(JSON.parse(nodes[0].record).headSeq).toBe(nodes[0].headSeq);
    // Another tenant sees none of these.
    const theirs = await api.gql(
      `{ auditEvents(first: 100, action: "workflow.created") { nodes { id } } }`,
      {},
      stranger.token,
    );
    expect(theirs.data?.auditEvents.nodes).toEqual([]);
  });
});
