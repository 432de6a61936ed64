import { withAuditContext, withTenant } from '@roster/db';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { digestHash } from '../digest.js';
import { verifyExport } from '../export-verifier.js';
import { generateSigningKeyPair } from '../keys.js';
import type { AuditRequestContext } from './audit-context.js';
import { signAllTenantDigests, signAuditDigest } from './digests.js';
import { exportAudit } from './export-store.js';
import { recordAudit } from './record-event.js';
import { sealAuditEvents } from './sealer.js';

const db = await createTestDatabase();
afterAll(() => db.drop());
const keys = generateSigningKeyPair();
const alice: AuditRequestContext = {
  actor: { type: 'member', id: '11111111-1111-4111-8111-111111111111' },
  traceId: '0af7651916cd43dd8448eb211c80319c',
  requestId: 'req-1',
};

async function record(tenantId: string, action: string, extra: Record<string, unknown> = {}) {
  return withTenant(db.appPool, tenantId, ({ client }) =>
    recordAudit(client, tenantId, alice, {
      action,
      subject: { type: 'workflow', id: 'wf-1' },
      data: { n: 1, ...extra },
    }),
  );
}

async function exportLines(tenantId: string, from: Date, to: Date): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of exportAudit(db.appPool, tenantId, {
    from,
    to,
    signingKey: keys.privateKeyPem,
  })) {
    lines.push(line);
  }
  return lines;
}

describe('audit chain in Postgres', () => {
  it('seals events written by services and by engine-style INSERTs, signs, exports, and the export verifies', async () => {
    const tenant = await createTenant(db.ownerPool);
    const start = new Date(Date.now() - 1000);
    await record(tenant.id, 'workflow.created');
    // The engine inserts only (tenant_id, run_id, kind, data); with an audit context its
    // events name the caller, without one they are the system's.
    await withAuditContext(
      { actorType: 'apiKey', actorId: 'key-1', traceId: 'trace-9', requestId: 'req-9' },
      () =>
        withTenant(db.appPool, tenant.id, ({ client }) =>
          client.query(
            `INSERT INTO audit_events (tenant_id, kind, data) VALUES ($1, 'run.created', '{}')`,
            [tenant.id],
          ),
        ),
    );
    await withTenant(db.appPool, tenant.id, ({ client }) =>
      client.query(
        `INSERT INTO audit_events (tenant_id, kind, data) VALUES ($1, 'step.succeeded', '{"step":"a"}')`,
        [tenant.id],
      ),
    );
    await record(tenant.id, 'workflow.renamed');

    const lines = await exportLines(tenant.id, start, new Date());
    const result = await verifyExport(lines, [keys.publicKeyPem]);
    expect(result).toMatchObject({ ok: true, firstSeq: 1, lastSeq: 4, events: 4 });
    const events = lines.map((l) => JSON.parse(l)).filter((r) => r.type === 'event');
    expect(events.map((e) => [e.action, e.actor.type, e.actor.id, e.traceId])).toEqual([
      ['workflow.created', 'member', alice.actor.id, alice.traceId],
      ['run.created', 'apiKey', 'key-1', 'trace-9'],
      ['step.succeeded', 'system', 'engine', null],
      ['workflow.renamed', 'member', alice.actor.id, alice.traceId],
    ]);
    expect(events[0].data).toEqual({ n: 1, requestId: 'req-1' });
  });

  it('chains digests: each names the previous one, and a later period exports from the digest before it', async () => {
    const tenant = await createTenant(db.ownerPool);
    await record(tenant.id, 'workflow.created');
    const first = await signAuditDigest(db.appPool, tenant.id, keys.privateKeyPem);
    const unchanged = await signAuditDigest(db.appPool, tenant.id, keys.privateKeyPem);
    expect(unchanged.created).toBe(false);
    await new Promise((r) => setTimeout(r, 5));
    const middle = new Date();
    await record(tenant.id, 'workflow.archived');
    await record(tenant.id, 'workflow.renamed');
    const second = await signAuditDigest(db.appPool, tenant.id, keys.privateKeyPem);
    expect(second.digest.previousDigestHash).toBe(digestHash(first.digest));
    expect(second.digest.headSeq).toBe(3);

    const lines = await exportLines(tenant.id, middle, new Date());
    expect(await verifyExport(lines, [keys.publicKeyPem])).toMatchObject({
      ok: true,
      firstSeq: 2,
      lastSeq: 3,
    });
  });

  it('continues the chain past seq 9 across seals (heads compare as numbers)', async () => {
    const tenant = await createTenant(db.ownerPool);
    for (let i = 0; i < 11; i++) await record(tenant.id, 'workflow.created');
    const seal = () =>
      withTenant(db.appPool, tenant.id, ({ client }) =>
        sealAuditEvents(client, tenant.id, { batchSize: 4 }),
      );
    expect(await seal()).toMatchObject({ sealed: 11, head: { seq: 11 } });
    await record(tenant.id, 'workflow.renamed');
    expect(await seal()).toMatchObject({ sealed: 1, head: { seq: 12 } });
    const lines = await exportLines(tenant.id, new Date(0), new Date());
    expect(await verifyExport(lines, [keys.publicKeyPem])).toMatchObject({ ok: true, lastSeq: 12 });
  });

  it('seals an event whose transaction commits after later events were sealed', async () => {
    const tenant = await createTenant(db.ownerPool);
    const slow = await db.appPool.connect();
    try {
      await slow.query(`BEGIN; SET LOCAL app.tenant_id = '${tenant.id}'`);
      await recordAudit(slow, tenant.id, alice, {
        action: 'slow.event',
        subject: { type: 't', id: '1' },
      });
      await record(tenant.id, 'fast.event');
      await withTenant(db.appPool, tenant.id, ({ client }) => sealAuditEvents(client, tenant.id));
      await slow.query('COMMIT');
    } finally {
      slow.release();
    }
    const sealed = await withTenant(db.appPool, tenant.id, ({ client }) =>
      sealAuditEvents(client, tenant.id),
    );
    expect(sealed).toMatchObject({ sealed: 1, head: { seq: 2 } });
    const lines = await exportLines(tenant.id, new Date(0), new Date());
    expect(await verifyExport(lines, [keys.publicKeyPem])).toMatchObject({ ok: true, events: 2 });
  });

  it('refuses UPDATE, DELETE and TRUNCATE of audit rows to the runtime role and to the owner', async () => {
    const tenant = await createTenant(db.ownerPool);
    await record(tenant.id, 'workflow.created');
    await signAuditDigest(db.appPool, tenant.id, keys.privateKeyPem);
    for (const table of ['audit_events', 'audit_chain', 'audit_digests']) {
      for (const sql of [
        `UPDATE ${table} SET tenant_id = tenant_id WHERE tenant_id = $1`,
        `DELETE FROM ${table} WHERE tenant_id = $1`,
      ]) {
        await expect(
          withTenant(db.appPool, tenant.id, ({ client }) => client.query(sql, [tenant.id])),
          `roster_app: ${sql}`,
        ).rejects.toThrow(/permission denied|append-only/);
        await expect(
          withTenant(db.ownerPool, tenant.id, ({ client }) => client.query(sql, [tenant.id])),
          `owner: ${sql}`,
        ).rejects.toThrow(/append-only/);
      }
      await expect(db.ownerPool.query(`TRUNCATE ${table} CASCADE`)).rejects.toThrow(/append-only/);
    }
    const { rows } = await withTenant(db.appPool, tenant.id, ({ client }) =>
      client.query('SELECT count(*)::int AS n FROM audit_chain WHERE tenant_id = $1', [tenant.id]),
    );
    expect(rows[0].n).toBe(1);
  });

  it('the hourly signer visits every tenant and signs only where the chain moved', async () => {
    const a = await createTenant(db.ownerPool);
    await record(a.id, 'workflow.created');
    const firstRound = await signAllTenantDigests(db.appPool, keys.privateKeyPem);
    expect(firstRound.failed).toEqual([]);
    expect(firstRound.signed).toBeGreaterThanOrEqual(1);
    await record(a.id, 'workflow.renamed');
    const secondRound = await signAllTenantDigests(db.appPool, keys.privateKeyPem);
    expect(secondRound.signed).toBe(1);
  });
});
