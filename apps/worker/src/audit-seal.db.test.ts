// The audit signer as a graphile-worker task: the hourly crontab line is registered, and a seal
// job (as cron or sealAuditDigests enqueues it) seals pending events and signs a digest that
// verifies with the signing key's public key, once, even with three worker pools.
import {
  AUDIT_SEAL_TASK,
  type AuditDigest,
  createPublicKeyRing,
  generateSigningKeyPair,
  recordAudit,
  systemAuditContext,
  verifyDigest,
} from '@roster/audit';
import { withTenant } from '@roster/db';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testExecutors, waitFor } from '../test/fixtures.js';
import { type RunningWorkerPool, runWorkerPool } from './worker-pool.js';

const db = await createTestDatabase();
const key = generateSigningKeyPair();
const tenant = await createTenant(db.ownerPool, 'Sealed');
const workers: RunningWorkerPool[] = [];

beforeAll(async () => {
  for (let i = 0; i < 3; i++) {
    workers.push(
      await runWorkerPool({
        appUrl: db.appUrl,
        executors: testExecutors(db.appPool),
        concurrency: 2,
        pollIntervalMs: 50,
        audit: { signingKey: key.privateKeyPem },
      }),
    );
  }
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await db.drop();
});

async function digests(tenantId: string) {
  const { rows } = await db.ownerPool.query<{ seq: number; head_seq: string; record: string }>(
    'SELECT seq, head_seq::text, record FROM audit_digests WHERE tenant_id = $1 ORDER BY seq',
    [tenantId],
  );
  return rows.map((r) => ({ seq: r.seq, digest: JSON.parse(r.record) as AuditDigest }));
}

async function sealJobsLeft() {
  const { rows } = await db.ownerPool.query(
    `SELECT 1 FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      WHERE t.identifier = $1`,
    [AUDIT_SEAL_TASK],
  );
  return rows.length;
}

describe('roster_audit_seal', () => {
  it('registers the hourly seal with graphile-worker cron', async () => {
    const { rows } = await db.ownerPool.query(
      'SELECT identifier FROM graphile_worker._private_known_crontabs',
    );
    expect(rows.map((r) => r.identifier)).toContain(AUDIT_SEAL_TASK);
  });

  it('seals pending events and signs a digest that verifies with the public key', async () => {
    for (const name of ['a', 'b', 'c']) {
      await withTenant(db.appPool, tenant.id, ({ client }) =>
        recordAudit(client, tenant.id, systemAuditContext('test'), {
          action: 'workflow.created',
          subject: { type: 'Workflow', id: name },
        }),
      );
    }
    // Three jobs for the same hour, as three crontab runners would enqueue without dedupe.
    for (let i = 0; i < 3; i++) {
      await db.appPool.query('SELECT graphile_worker.add_job($1, $2::json)', [
        AUDIT_SEAL_TASK,
        JSON.stringify({ _cron: { ts: new Date().toISOString(), backfilled: false } }),
      ]);
    }
    await waitFor(async () => (await sealJobsLeft()) === 0, 20_000, 'the seal jobs to finish');
    const signed = await digests(tenant.id);
    // Only the first job found the chain moved; the others left it as it was.
    expect(signed).toHaveLength(1);
    const { digest } = signed[0]!;
    expect(digest.headSeq).toBe(3);
    expect(verifyDigest(digest, createPublicKeyRing([key.publicKeyPem]))).toMatchObject({
      ok: true,
    });
    const chain = await db.ownerPool.query(
      'SELECT count(*)::int AS n FROM audit_chain WHERE tenant_id = $1',
      [tenant.id],
    );
    expect(chain.rows[0].n).toBe(3);
  });

  it('signs one tenant on demand ({ tenantId }) when its chain moved', async () => {
    const other = await createTenant(db.ownerPool, 'OnDemand');
    await withTenant(db.appPool, other.id, ({ client }) =>
      recordAudit(client, other.id, systemAuditContext('test'), {
        action: 'workflow.created',
        subject: { type: 'Workflow', id: 'x' },
      }),
    );
    await db.appPool.query('SELECT graphile_worker.add_job($1, $2::json)', [
      AUDIT_SEAL_TASK,
      JSON.stringify({ tenantId: other.id }),
    ]);
    await waitFor(async () => (await sealJobsLeft()) === 0, 20_000, 'the seal job to finish');
    const signed = await digests(other.id);
    expect(signed.map((d) => d.digest.headSeq)).toEqual([1]);
    expect(verifyDigest(signed[0]!.digest, createPublicKeyRing([key.publicKeyPem]))).toMatchObject({
      ok: true,
    });
  });
});
