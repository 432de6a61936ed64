import { describe, expect, it } from 'vitest';
import { startTestApi } from '../test/api-harness.js';

// The governance policy through GraphQL: versions, validation naming paths, optimistic
// concurrency, who may change it, and the audit event with the policy before and after.
const api = await startTestApi();

const READ = '{ governancePolicy { version effective defaults override } }';
const UPDATE = `mutation($i: UpdateGovernancePolicyInput!) {
  updateGovernancePolicy(input: $i) { governancePolicy { version effective override } } }`;
const VERSIONS = `query($after: String) { governancePolicyVersions(first: 2, after: $after) {
  nodes { version comment document createdBy } pageInfo { hasNextPage endCursor } } }`;

describe('governancePolicy / updateGovernancePolicy', () => {
  it('starts at version 0 with the defaults of policies/governance.yaml in force', async () => {
    const owner = await api.signUp('Gov defaults');
    const res = await api.gql(READ, {}, owner.token);
    expect(res.errors).toBeUndefined();
    expect(res.data?.governancePolicy).toMatchObject({ version: 0, override: null });
    expect(res.data?.governancePolicy.effective).toEqual(res.data?.governancePolicy.defaults);
    expect(res.data?.governancePolicy.effective.retention.auditEvents).toBe('forever');
  });

  it('saves versions, merges the override over the defaults and lists the history', async () => {
    const owner = await api.signUp('Gov versions');
    const first = await api.gql(
      UPDATE,
      {
        i: {
          document: { thresholds: { default: 0.8 }, redaction: { external: ['mailer'] } },
          expectedVersion: 0,
          comment: 'looser',
        },
      },
      owner.token,
    );
    expect(first.errors).toBeUndefined();
    const saved = first.data?.updateGovernancePolicy.governancePolicy;
    expect(saved.version).toBe(1);
    expect(saved.effective.thresholds.default).toBe(0.8);
    expect(saved.effective.redaction.external).toEqual(['mailer']);
    expect(saved.effective.redaction.detectors).toContain('email');

    for (const [v, t] of [
      [1, 0.7],
      [2, 0.6],
    ] as const) {
      const r = await api.gql(
        UPDATE,
        { i: { document: { thresholds: { default: t } }, expectedVersion: v } },
        owner.token,
      );
      expect(r.errors).toBeUndefined();
    }
    expect((await api.gql(READ, {}, owner.token)).data?.governancePolicy).toMatchObject({
      version: 3,
      override: { thresholds: { default: 0.6 } },
    });
    const page1 = await api.gql(VERSIONS, {}, owner.token);
    const conn = page1.data?.governancePolicyVersions;
    expect(conn.nodes.map((n: { version: number }) => n.version)).toEqual([3, 2]);
    expect(conn.nodes[0].createdBy).toBe(owner.userId);
    expect(conn.pageInfo.hasNextPage).toBe(true);
    const page2 = await api.gql(VERSIONS, { after: conn.pageInfo.endCursor }, owner.token);
    expect(page2.data?.governancePolicyVersions.nodes).toEqual([
      expect.objectContaining({ version: 1, comment: 'looser' }),
    ]);
  });

  it('a stale expectedVersion is a CONFLICT and saves nothing', async () => {
    const owner = await api.signUp('Gov conflict');
    const doc = { thresholds: { default: 0.5 } };
    await api.gql(UPDATE, { i: { document: doc, expectedVersion: 0 } }, owner.token);
    const stale = await api.gql(
      UPDATE,
      { i: { document: { thresholds: { default: 0.4 } }, expectedVersion: 0 } },
      owner.token,
    );
    expect(stale.errors?.[0]?.extensions).toMatchObject({
      code: 'CONFLICT',
      field: 'input.expectedVersion',
    });
    expect(stale.errors?.[0]?.message).toMatch(/version 1/);
    expect((await api.gql(READ, {}, owner.token)).data?.governancePolicy).toMatchObject({
      version: 1,
      override: doc,
    });
  });

  it('an invalid document is BAD_USER_INPUT naming the path of each problem', async () => {
    const owner = await api.signUp('Gov invalid');
    const res = await api.gql(
      UPDATE,
      {
        i: {
          document: {
            thresholds: { overrides: [{ model: 'triage', threshold: 2 }] },
            retention: { auditEvents: 'P1Y' },
          },
          expectedVersion: 0,
        },
      },
      owner.token,
    );
    const ext = res.errors?.[0]?.extensions;
    expect(ext?.code).toBe('BAD_USER_INPUT');
    expect(ext?.field).toBe('input.document.thresholds.overrides.0.threshold');
    expect(ext?.problems.map((p: { path: string }) => p.path)).toEqual([
      'input.document.thresholds.overrides.0.threshold',
      'input.document.retention.auditEvents',
    ]);
    expect((await api.gql(READ, {}, owner.token)).data?.governancePolicy.version).toBe(0);
  });

  it('compliance may change the policy; a builder reads it but may not change it', async () => {
    const owner = await api.signUp('Gov roles');
    const compliance = await api.addMember(owner.token, 'compliance');
    const builder = await api.addMember(owner.token, 'builder');
    const byCompliance = await api.gql(
      UPDATE,
      { i: { document: { retention: { runPayloads: 'P30D' } }, expectedVersion: 0 } },
      compliance.token,
    );
    expect(byCompliance.errors).toBeUndefined();
    expect((await api.gql(READ, {}, builder.token)).data?.governancePolicy.version).toBe(1);
    const byBuilder = await api.gql(
      UPDATE,
      { i: { document: {}, expectedVersion: 1 } },
      builder.token,
    );
    expect(byBuilder.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('records policy.changed by the caller with the effective policy before and after', async () => {
    const owner = await api.signUp('Gov audit');
    await api.gql(
      UPDATE,
      { i: { document: { thresholds: { default: 0.75 } }, expectedVersion: 0, comment: 'why' } },
      owner.token,
    );
    const { rows } = await api.db.ownerPool.query(
      `SELECT actor_type, actor_id, subject_type, subject_id, data, before, after FROM audit_events
        WHERE tenant_id = $1 AND kind = 'policy.changed'`,
      [owner.tenantId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor_type: 'member',
      actor_id: owner.userId,
      subject_type: 'policy',
      subject_id: 'governance',
      data: { policy: 'governance', version: 1, summary: expect.stringContaining('0 → 1: why') },
    });
    expect(rows[0].before.thresholds.default).toBe(0.9);
    expect(rows[0].after.thresholds.default).toBe(0.75);
  });
});
