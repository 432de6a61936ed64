import { randomUUID } from 'node:crypto';
import { exportAudit, generateSigningKeyPair, signAuditDigest, verifyExport } from '@roster/audit';
import { createTenant, createTestDatabase, type TestDatabase } from '@roster/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GOVERNANCE_POLICY, type RetentionPolicy, sweepRetention } from '../index.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

// The sweep's clock: data is placed relative to it, never to the wall clock.
const NOW = new Date('2031-06-15T12:00:00Z');
const daysAgo = (n: number) => new Date(NOW.getTime() - n * 86_400_000);
const keys = generateSigningKeyPair();

/** A tenant with one workflow, a runner pool and a webhook trigger (what the rows hang off). */
async function tenantWithParents() {
  const tenant = await createTenant(db.ownerPool);
  const workflowId = randomUUID();
  const q = (sql: string, params: unknown[]) => db.ownerPool.query(sql, params);
  await q('INSERT INTO workflows (tenant_id, id, name, latest_version) VALUES ($1, $2, $3, 1)', [
    tenant.id,
    workflowId,
    `wf-${workflowId.slice(0, 8)}`,
  ]);
  await q(
    'INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition) VALUES ($1, $2, 1, $3)',
    [tenant.id, workflowId, { start: 'a', steps: { a: { type: 'succeed' } } }],
  );
  const poolId = randomUUID();
  await q('INSERT INTO runner_pools (tenant_id, id, name, token_hash) VALUES ($1, $2, $3, $4)', [
    tenant.id,
    poolId,
    'p',
    randomUUID(),
  ]);
  const triggerId = randomUUID();
  await q(
    `INSERT INTO webhook_triggers (tenant_id, id, workflow_id, name, secret) VALUES ($1, $2, $3, 'h', 's')`,
    [tenant.id, triggerId, workflowId],
  );
  return { tenantId: tenant.id, workflowId, poolId, triggerId };
}

/** One ended run finished `age` days before NOW, with a step, a decision input, a callback, a
 * received webhook, a review task and a comment, all of that age. */
async function dataAged(
  t: Awaited<ReturnType<typeof tenantWithParents>>,
  age: number,
  status = 'succeeded',
) {
  const at = daysAgo(age);
  const runId = randomUUID();
  const q = (sql: string, params: unknown[]) => db.ownerPool.query(sql, params);
  await q(
    `INSERT INTO runs (tenant_id, id, workflow_id, workflow_version, status, input, output, created_at, finished_at)
     VALUES ($1, $2, $3, 1, $4, '{"ticket":"T-1"}', '{"done":true}', $5, CASE WHEN $4 = 'running' THEN NULL ELSE $5::timestamptz END)`,
    [t.tenantId, runId, t.workflowId, status, at],
  );
  await q(
    `INSERT INTO step_runs (tenant_id, run_id, step_id, status, output, started_at, finished_at)
     VALUES ($1, $2, 'a', 'succeeded', '{"label":"x"}', $3, $3)`,
    [t.tenantId, runId, at],
  );
  await q(
    `INSERT INTO inference_requests (tenant_id, pool_id, model_version_id, sha256, input, fingerprint, status, deadline_at, created_at, completed_at)
     VALUES ($1, $2, $3, 'h', $5, 'f', 'done', $4, $4, $4)`,
    [t.tenantId, t.poolId, randomUUID(), at, { text: 'hello', run: runId }],
  );
  await q(
    `INSERT INTO callback_deliveries (tenant_id, run_id, workflow_id, event_type, url, payload, status, created_at)
     VALUES ($1, $2, $3, 'run.succeeded', 'https://example.test/cb', '{"output":1}', 'delivered', $4)`,
    [t.tenantId, runId, t.workflowId, at],
  );
  await q(
    `INSERT INTO webhook_deliveries_seen (tenant_id, trigger_id, webhook_id, run_id, received_at)
     VALUES ($1, $2, $3, $4, $5)`,
    [t.tenantId, t.triggerId, randomUUID(), runId, at],
  );
  const taskId = randomUUID();
  await q(
    `INSERT INTO review_tasks (tenant_id, id, run_id, step_id, data, status, result, created_at, resolved_at)
     VALUES ($1, $2, $3, 'a', '{"text":"hello"}', 'approved', '{"label":"x"}', $4, $4)`,
    [t.tenantId, taskId, runId, at],
  );
  await q(
    `INSERT INTO review_comments (tenant_id, task_id, author_id, body, created_at) VALUES ($1, $2, $3, 'looks fine', $4)`,
    [t.tenantId, taskId, randomUUID(), at],
  );
  await q(
    `INSERT INTO audit_events (tenant_id, run_id, kind, created_at) VALUES ($1, $2, 'run.created', $3)`,
    [t.tenantId, runId, at],
  );
  return runId;
}

async function stateOf(runId: string) {
  const { rows } = await db.ownerPool.query(
    `SELECT r.input, r.output, s.output AS step_output,
            (SELECT count(*)::int FROM inference_requests i WHERE i.tenant_id = r.tenant_id AND i.input->>'run' = r.id::text) AS decision_inputs,
            (SELECT count(*)::int FROM callback_deliveries c WHERE c.run_id = r.id) AS callbacks,
            (SELECT count(*)::int FROM webhook_deliveries_seen w WHERE w.run_id = r.id) AS webhooks,
            (SELECT t.data FROM review_tasks t WHERE t.run_id = r.id) AS review_data,
            (SELECT count(*)::int FROM review_comments c JOIN review_tasks t ON t.tenant_id = c.tenant_id AND t.id = c.task_id WHERE t.run_id = r.id) AS comments,
            (SELECT count(*)::int FROM audit_events a WHERE a.run_id = r.id) AS audit_events
       FROM runs r JOIN step_runs s ON s.tenant_id = r.tenant_id AND s.run_id = r.id WHERE r.id = $1`,
    [runId],
  );
  return rows[0];
}

async function chainVerifies(tenantId: string) {
  await signAuditDigest(db.appPool, tenantId, keys.privateKeyPem);
  const lines: string[] = [];
  for await (const line of exportAudit(db.appPool, tenantId, {
    from: new Date(0),
    to: new Date(),
    signingKey: keys.privateKeyPem,
  })) {
    lines.push(line);
  }
  return { verified: await verifyExport(lines, [keys.publicKeyPem]), lines: lines.length };
}

const KEPT = {
  input: { ticket: 'T-1' },
  output: { done: true },
  step_output: { label: 'x' },
  decision_inputs: 1,
  callbacks: 1,
  webhooks: 1,
  review_data: { text: 'hello' },
  comments: 1,
  audit_events: 1,
};

describe('retention sweep', () => {
  it('removes what is older than each data class allows, keeps newer and active data and every audit event', async () => {
    const t = await tenantWithParents();
    const retention: RetentionPolicy = { ...DEFAULT_GOVERNANCE_POLICY.retention };
    // Defaults: run payloads and step outputs 90 days, decision inputs and webhooks 30, comments 1 year.
    const old = await dataAged(t, 400);
    const middle = await dataAged(t, 60);
    const recent = await dataAged(t, 5);
    const active = await dataAged(t, 400, 'running');
    const before = await chainVerifies(t.tenantId);
    expect(before.verified).toMatchObject({ ok: true });

    const [result] = await sweepRetention(db.appPool, {
      now: NOW,
      retentionFor: async () => retention,
      tenantIds: [t.tenantId],
      batchSize: 1,
    });
    expect(result?.counts).toEqual({
      runPayloads: 2, // old run + its review task
      stepOutputs: 1,
      decisionInputs: 3, // old, middle and the active run's (done) request
      webhookDeliveries: 6, // webhooks and delivered callbacks of old, middle and active
      reviewComments: 2, // old and active (400 days > 1 year)
    });

    expect(await stateOf(old)).toEqual({
      ...KEPT,
      input: {},
      output: null,
      step_output: null,
      decision_inputs: 0,
      callbacks: 0,
      webhooks: 0,
      review_data: {},
      comments: 0,
    });
    expect(await stateOf(middle)).toEqual({
      ...KEPT,
      decision_inputs: 0,
      callbacks: 0,
      webhooks: 0,
    });
    expect(await stateOf(recent)).toEqual(KEPT);
    // A run still going keeps its payloads whatever its age; its delivery logs are logs.
    expect(await stateOf(active)).toMatchObject({
      input: KEPT.input,
      step_output: KEPT.step_output,
      audit_events: 1,
    });

    // Audit events are never swept: the chain verifies and only grew (retention.swept).
    const after = await chainVerifies(t.tenantId);
    expect(after.verified).toMatchObject({ ok: true });
    const { rows } = await db.ownerPool.query(
      `SELECT data FROM audit_events WHERE tenant_id = $1 AND kind = 'retention.swept'`,
      [t.tenantId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].data.counts).toEqual(result?.counts);

    // Safe to re-run: nothing left to remove, nothing audited.
    const [again] = await sweepRetention(db.appPool, {
      now: NOW,
      retentionFor: async () => retention,
      tenantIds: [t.tenantId],
    });
    expect(Object.values(again?.counts ?? {}).every((n) => n === 0)).toBe(true);
  });

  it('keeps a data class whose retention is "forever", and sweeps every tenant when none is named', async () => {
    const a = await tenantWithParents();
    const b = await tenantWithParents();
    const oldA = await dataAged(a, 400);
    const oldB = await dataAged(b, 400);
    const results = await sweepRetention(db.appPool, {
      now: NOW,
      retentionFor: async (tenantId) => ({
        ...DEFAULT_GOVERNANCE_POLICY.retention,
        ...(tenantId === a.tenantId ? { runPayloads: 'forever' } : {}),
      }),
    });
    expect(results.map((r) => r.tenantId)).toEqual(
      expect.arrayContaining([a.tenantId, b.tenantId]),
    );
    expect(await stateOf(oldA)).toMatchObject({
      input: KEPT.input,
      output: KEPT.output,
      step_output: null,
    });
    expect(await stateOf(oldB)).toMatchObject({ input: {}, output: null });
  });
});
