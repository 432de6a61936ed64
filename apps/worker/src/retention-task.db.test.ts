import { randomUUID } from 'node:crypto';
import { createTenant, createTestDatabase } from '@roster/testkit';
import type { JobHelpers } from 'graphile-worker';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkflow } from '../test/fixtures.js';
import { rosterRetentionSweep } from './tasks/roster_retention_sweep.js';

const db = await createTestDatabase();
afterAll(() => db.drop());

const logged: string[] = [];
const helpers = {
  logger: { info: (m: string) => logged.push(m), warn: () => {}, error: () => {}, debug: () => {} },
} as unknown as JobHelpers;

/** An ended run finished at `finishedAt`, with a step output. */
async function endedRun(tenantId: string, workflowId: string, finishedAt: Date) {
  const id = randomUUID();
  await db.ownerPool.query(
    `INSERT INTO runs (tenant_id, id, workflow_id, workflow_version, status, input, output, finished_at)
     VALUES ($1, $2, $3, 1, 'succeeded', '{"a":1}', '{"b":2}', $4)`,
    [tenantId, id, workflowId, finishedAt],
  );
  return id;
}

async function inputOf(runId: string) {
  const { rows } = await db.ownerPool.query('SELECT input FROM runs WHERE id = $1', [runId]);
  return rows[0].input;
}

describe('roster_retention_sweep task', () => {
  it("sweeps at the cron tick's time with each tenant's policy (default run payloads: 90 days)", async () => {
    const tenant = await createTenant(db.ownerPool);
    const wf = await createWorkflow(db.ownerPool, tenant.id, {
      start: 'a',
      steps: { a: { type: 'succeed' } },
    });
    const tick = new Date('2030-01-01T03:17:00Z');
    const old = await endedRun(tenant.id, wf, new Date('2029-09-01T00:00:00Z')); // 122 days
    const recent = await endedRun(tenant.id, wf, new Date('2029-12-01T00:00:00Z')); // 31 days
    await rosterRetentionSweep(db.appPool)({ _cron: { ts: tick.toISOString() } }, helpers);
    expect(await inputOf(old)).toEqual({});
    expect(await inputOf(recent)).toEqual({ a: 1 });
    expect(logged.some((l) => l.includes(tenant.id) && l.includes('"runPayloads":1'))).toBe(true);
  });

  it('on demand sweeps the named tenant only, at the injected clock', async () => {
    const a = await createTenant(db.ownerPool);
    const b = await createTenant(db.ownerPool);
    const wfA = await createWorkflow(db.ownerPool, a.id, {
      start: 'a',
      steps: { a: { type: 'succeed' } },
    });
    const wfB = await createWorkflow(db.ownerPool, b.id, {
      start: 'a',
      steps: { a: { type: 'succeed' } },
    });
    const finished = new Date('2029-01-01T00:00:00Z');
    const runA = await endedRun(a.id, wfA, finished);
    const runB = await endedRun(b.id, wfB, finished);
    const clock = () => new Date('2029-06-01T00:00:00Z'); // 151 days later
    await rosterRetentionSweep(db.appPool, { clock })({ tenantId: a.id }, helpers);
    expect(await inputOf(runA)).toEqual({});
    expect(await inputOf(runB)).toEqual({ a: 1 });
  });
});
