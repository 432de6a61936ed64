import { createMongoAbility } from '@casl/ability';
import { describe, expect, it } from 'vitest';
import { ME, MY_QUEUE, member, TENANT } from '../test/records.js';
import { abilityFor, accessibleSqlCondition, compilePolicy, RosterAbility } from './index.js';

/** A one-role policy around the given rules (YAML flow style). */
function ability(rules: string, role = 'tester') {
  const yaml = `version: 1
roles:
  ${role}:
    description: A role under test.
    rules: ${rules}
scopes:
  runs:read:
    description: Read runs.
    rules: [{ action: read, subject: Run }]
`;
  return abilityFor(compilePolicy(yaml), member(role));
}

const COLUMNS = {
  tenantId: 't.tenant_id',
  createdBy: 't.created_by',
  queue: 't.queue',
  assigneeId: 't.assignee_id',
  status: 't.status',
  role: 'm.role',
};

describe('accessibleSqlCondition', () => {
  it('limits an unconditional rule to the tenant', () => {
    const a = ability('[{ action: read, subject: Workflow }]');
    expect(accessibleSqlCondition(a, 'read', 'Workflow', COLUMNS)).toEqual({
      sql: 't.tenant_id = $1',
      params: [TENANT],
    });
  });

  it('returns null (run no query) when no rule allows the action', () => {
    const a = ability('[{ action: read, subject: Workflow }]');
    expect(accessibleSqlCondition(a, 'update', 'Workflow', COLUMNS)).toBeNull();
    expect(accessibleSqlCondition(a, 'read', 'Run', COLUMNS)).toBeNull();
  });

  it('returns null when an unconditional cannot follows the can', () => {
    const a = ability(
      '[{ action: read, subject: Workflow }, { action: read, subject: Workflow, inverted: true }]',
    );
    expect(accessibleSqlCondition(a, 'read', 'Workflow', COLUMNS)).toBeNull();
  });

  it('returns null for an operation the vocabulary does not declare, even for manage all', () => {
    const a = ability('[{ action: manage, subject: all }]');
    expect(accessibleSqlCondition(a, 'update', 'AuditEvent', COLUMNS)).toBeNull();
  });

  it('writes ownership, list placeholders and null checks', () => {
    const a = ability(
      `[{ action: decide, subject: ReviewTask, conditions: { queue: { $in: "\${actor.reviewQueues}" }, assigneeId: "\${actor.memberId}" } }, { action: claim, subject: ReviewTask, conditions: { assigneeId: null } }]`,
    );
    expect(accessibleSqlCondition(a, 'decide', 'ReviewTask', COLUMNS)).toEqual({
      sql: '(t.queue = ANY($1)) AND (t.assignee_id = $2) AND (t.tenant_id = $3)',
      params: [[MY_QUEUE], ME, TENANT],
    });
    expect(accessibleSqlCondition(a, 'claim', 'ReviewTask', COLUMNS)).toEqual({
      sql: '(t.assignee_id IS NULL) AND (t.tenant_id = $1)',
      params: [TENANT],
    });
  });

  it('ORs several allowing rules and ANDs the cannots that follow them, null-safely', () => {
    const a = ability(`[
      { action: read, subject: Run, conditions: { createdBy: "\${actor.memberId}" } },
      { action: read, subject: Run, conditions: { status: { $in: [failed, cancelled] } } },
      { action: read, subject: Run, conditions: { status: secret }, inverted: true }
    ]`);
    expect(accessibleSqlCondition(a, 'read', 'Run', COLUMNS)).toEqual({
      sql:
        '((t.status = ANY($1)) AND (t.tenant_id = $2) AND (NOT COALESCE(t.status = $3, FALSE)))' +
        ' OR ((t.created_by = $4) AND (t.tenant_id = $5) AND (NOT COALESCE(t.status = $6, FALSE)))',
      params: [['failed', 'cancelled'], TENANT, 'secret', ME, TENANT, 'secret'],
    });
  });

  it('writes ne and nin so that NULL columns match, as CASL does in memory', () => {
    const a = ability(
      '[{ action: read, subject: Run, conditions: { status: { $ne: archived }, queue: { $nin: [x, y] }, assigneeId: { $ne: null } } }]',
    );
    expect(accessibleSqlCondition(a, 'read', 'Run', COLUMNS)).toEqual({
      sql: '(t.status IS DISTINCT FROM $1) AND ((t.queue IS NULL OR t.queue <> ALL($2))) AND (t.assignee_id IS NOT NULL) AND (t.tenant_id = $3)',
      params: ['archived', ['x', 'y'], TENANT],
    });
  });

  it('numbers parameters from firstParam so the fragment splices into a larger query', () => {
    const a = ability('[{ action: read, subject: Workflow }]');
    expect(accessibleSqlCondition(a, 'read', 'Workflow', COLUMNS, { firstParam: 4 })).toEqual({
      sql: 't.tenant_id = $4',
      params: [TENANT],
    });
  });

  it('gives TRUE for a global subject with no conditions', () => {
    const a = ability('[{ action: read, subject: Plugin }]');
    expect(accessibleSqlCondition(a, 'read', 'Plugin', COLUMNS)).toEqual({
      sql: 'TRUE',
      params: [],
    });
  });

  it('refuses fields missing from the column map and columns that are not identifiers', () => {
    const a = ability(
      `[{ action: update, subject: Workflow, conditions: { createdBy: "\${actor.memberId}" } }]`,
    );
    expect(() =>
      accessibleSqlCondition(a, 'update', 'Workflow', { tenantId: 'tenant_id' }),
    ).toThrow(expect.objectContaining({ code: 'UNMAPPED_FIELD', details: { field: 'createdBy' } }));
    expect(() =>
      accessibleSqlCondition(a, 'update', 'Workflow', {
        tenantId: 'tenant_id',
        createdBy: 'created_by; drop table x',
      }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_COLUMN' }));
  });

  it('throws on an operator it cannot translate instead of dropping the condition', () => {
    const casl = createMongoAbility([
      { action: 'read', subject: 'Run', conditions: { attempts: { $gt: 3 } } },
    ]);
    const a = new RosterAbility(member('viewer'), [casl], ['test layer']);
    expect(() => accessibleSqlCondition(a, 'read', 'Run', { attempts: 'attempts' })).toThrow(
      expect.objectContaining({
        code: 'UNSUPPORTED_CONDITION',
        details: { operator: 'gt', field: 'attempts' },
      }),
    );
  });
});
