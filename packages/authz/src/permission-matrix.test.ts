// The permission matrix, generated from policies/roles.yaml: every role x every operation
// the vocabulary declares, classified from real records, checked against a hand-written
// expectations table and against invariants that must hold for any edit of the policy.
import { describe, expect, it } from 'vitest';
import {
  ME,
  MY_QUEUE,
  member,
  OTHER_TENANT,
  ROLES_YAML,
  recordsOf,
  rulesMention,
  SOMEONE,
  TENANT,
} from '../test/records.js';
import {
  type Action,
  abilityFor,
  declaredOperations,
  ForbiddenError,
  loadPolicyFile,
  type SubjectName,
  subjectRecord,
} from './index.js';

const policy = await loadPolicyFile(ROLES_YAML);
const ROLES = [
  'owner',
  'admin',
  'builder',
  'operator',
  'reviewer',
  'compliance',
  'billing',
  'viewer',
];

type Outcome = 'allowed' | 'conditional' | 'FORBIDDEN';

function outcome(role: string, action: Action, subject: SubjectName): Outcome {
  const ability = abilityFor(policy, member(role));
  const results = recordsOf(subject, TENANT).map((r) => ability.can(action, r));
  if (results.every(Boolean)) return 'allowed';
  return results.some(Boolean) ? 'conditional' : 'FORBIDDEN';
}

const matrix = ROLES.flatMap((role) =>
  declaredOperations().map(({ action, subject }) => ({
    role,
    action,
    subject,
    outcome: outcome(role, action, subject),
  })),
);
const cell = (role: string, action: Action, subject: SubjectName) =>
  matrix.find((c) => c.role === role && c.action === action && c.subject === subject)?.outcome;

describe('roles.yaml', () => {
  it('defines exactly the eight roles, each described in one line', () => {
    expect([...policy.roles.keys()].sort()).toEqual([...ROLES].sort());
    for (const role of policy.roles.values()) expect(role.description).toMatch(/^[^\n]{10,}$/);
  });
});

describe('permission matrix (hand-written expectations)', () => {
  const expectations: [string, Action, SubjectName, Outcome][] = [
    ['owner', 'delete', 'Tenant', 'allowed'],
    ['owner', 'cancel', 'Subscription', 'allowed'],
    ['admin', 'delete', 'Tenant', 'FORBIDDEN'],
    ['admin', 'cancel', 'Subscription', 'FORBIDDEN'],
    ['admin', 'update', 'Member', 'conditional'],
    ['admin', 'grant', 'Installation', 'allowed'],
    ['admin', 'create', 'Invitation', 'allowed'],
    ['builder', 'create', 'Workflow', 'allowed'],
    ['builder', 'update', 'Workflow', 'conditional'],
    ['builder', 'publish', 'Workflow', 'conditional'],
    ['builder', 'create', 'WorkflowVersion', 'conditional'],
    ['builder', 'cancel', 'Run', 'conditional'],
    ['builder', 'retry', 'Run', 'FORBIDDEN'],
    ['builder', 'grant', 'Installation', 'FORBIDDEN'],
    ['builder', 'create', 'Invitation', 'FORBIDDEN'],
    ['builder', 'infer', 'Model', 'allowed'],
    ['operator', 'retry', 'Run', 'allowed'],
    ['operator', 'replay', 'DeadLetter', 'allowed'],
    ['operator', 'rollback', 'Deployment', 'allowed'],
    ['operator', 'update', 'Workflow', 'FORBIDDEN'],
    ['operator', 'delete', 'Deployment', 'FORBIDDEN'],
    ['reviewer', 'read', 'ReviewTask', 'conditional'],
    ['reviewer', 'claim', 'ReviewTask', 'conditional'],
    ['reviewer', 'decide', 'ReviewTask', 'conditional'],
    ['reviewer', 'update', 'ReviewTask', 'FORBIDDEN'],
    ['reviewer', 'read', 'AuditEvent', 'FORBIDDEN'],
    ['compliance', 'read', 'AuditEvent', 'allowed'],
    ['compliance', 'create', 'AuditExport', 'allowed'],
    ['compliance', 'verify', 'AuditExport', 'allowed'],
    ['compliance', 'update', 'Policy', 'allowed'],
    ['compliance', 'delete', 'Policy', 'FORBIDDEN'],
    ['compliance', 'update', 'Workflow', 'FORBIDDEN'],
    ['billing', 'update', 'Subscription', 'allowed'],
    ['billing', 'cancel', 'Subscription', 'FORBIDDEN'],
    ['billing', 'read', 'UsageRecord', 'allowed'],
    ['billing', 'read', 'Workflow', 'FORBIDDEN'],
    ['viewer', 'read', 'Workflow', 'allowed'],
    ['viewer', 'read', 'Member', 'allowed'],
    ['viewer', 'read', 'AuditEvent', 'FORBIDDEN'],
    ['viewer', 'read', 'Connection', 'FORBIDDEN'],
  ];
  it.each(expectations)('%s may %s %s: %s', (role, action, subject, expected) => {
    expect(cell(role, action, subject)).toBe(expected);
  });

  const fieldExpectations: [string, SubjectName, string, boolean][] = [
    ['viewer', 'Member', 'email', false],
    ['viewer', 'Member', 'displayName', true],
    ['builder', 'Member', 'email', false],
    ['builder', 'Member', 'role', true],
    ['reviewer', 'Member', 'role', false],
    ['compliance', 'Member', 'email', true],
    ['billing', 'Tenant', 'name', true],
    ['billing', 'Tenant', 'settings', false],
  ];
  it.each(fieldExpectations)('%s reading %s.%s: %s', (role, subject, field, expected) => {
    const ability = abilityFor(policy, member(role));
    const row = recordsOf(subject, TENANT)[0]!;
    expect(ability.can('read', row, field)).toBe(expected);
    expect(ability.permittedFields('read', row, ['id', field]).includes(field)).toBe(expected);
  });
});

describe('conditions (ownership, queues, owners)', () => {
  const workflow = (createdBy: string) =>
    subjectRecord('Workflow', { tenantId: TENANT, createdBy });
  const task = (queue: string, assigneeId: string | null) =>
    subjectRecord('ReviewTask', { tenantId: TENANT, queue, assigneeId });

  it('lets a builder change only the workflows they created', () => {
    const builder = abilityFor(policy, member('builder'));
    expect(builder.can('update', workflow(ME))).toBe(true);
    expect(builder.can('update', workflow(SOMEONE))).toBe(false);
    expect(() => builder.assert('archive', workflow(SOMEONE))).toThrow(ForbiddenError);
  });

  it('lets a reviewer claim open tasks in their queue and decide only tasks they claimed', () => {
    const reviewer = abilityFor(policy, member('reviewer'));
    expect(reviewer.can('claim', task(MY_QUEUE, null))).toBe(true);
    expect(reviewer.can('claim', task(MY_QUEUE, SOMEONE))).toBe(false);
    expect(reviewer.can('claim', task('other-queue', null))).toBe(false);
    expect(reviewer.can('decide', task(MY_QUEUE, ME))).toBe(true);
    expect(reviewer.can('decide', task(MY_QUEUE, null))).toBe(false);
    expect(reviewer.can('decide', task('other-queue', ME))).toBe(false);
    const noQueues = abilityFor(policy, { ...member('reviewer'), reviewQueues: [] });
    expect(noQueues.can('read', task(MY_QUEUE, null))).toBe(false);
  });

  it('keeps admins away from owners but not from other members', () => {
    const admin = abilityFor(policy, member('admin'));
    const owner = subjectRecord('Member', { tenantId: TENANT, id: 'm-1', role: 'owner' });
    const viewer = subjectRecord('Member', { tenantId: TENANT, id: 'm-2', role: 'viewer' });
    expect(admin.can('update', viewer)).toBe(true);
    expect(admin.can('delete', owner)).toBe(false);
    expect(() => admin.assert('update', owner)).toThrow(/admins cannot change or remove owners/);
  });

  it('raises a FORBIDDEN error carrying action, subject, field and the rule reason', () => {
    const viewer = abilityFor(policy, member('viewer'));
    const error = (() => {
      try {
        viewer.assert('read', recordsOf('Member', TENANT)[0]!, 'email');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error).toMatchObject({
      code: 'FORBIDDEN',
      action: 'read',
      subject: 'Member',
      field: 'email',
      reason: 'viewers do not see member email addresses',
    });
  });
});

describe('permission matrix (invariants)', () => {
  it('lets the owner do every declared operation and nobody an undeclared one', () => {
    for (const c of matrix.filter((c) => c.role === 'owner'))
      expect(c, c.subject).toMatchObject({ outcome: 'allowed' });
    for (const role of ROLES) {
      const ability = abilityFor(policy, member(role));
      expect(ability.can('update', 'AuditEvent')).toBe(false);
      expect(ability.can('delete', 'WorkflowVersion')).toBe(false);
    }
  });

  it('never lets a viewer write', () => {
    const writes = matrix.filter((c) => c.role === 'viewer' && c.action !== 'read');
    expect(writes.length).toBeGreaterThan(40);
    for (const c of writes) expect(c).toMatchObject({ outcome: 'FORBIDDEN' });
  });

  it('lets compliance export audit reports but never change workflows', () => {
    expect(cell('compliance', 'create', 'AuditExport')).toBe('allowed');
    const changes = matrix.filter(
      (c) =>
        c.role === 'compliance' &&
        c.action !== 'read' &&
        ['Workflow', 'WorkflowVersion', 'Schedule', 'WebhookTrigger'].includes(c.subject),
    );
    for (const c of changes) expect(c).toMatchObject({ outcome: 'FORBIDDEN' });
  });

  it('lets billing touch billing only (plus reading the tenant name)', () => {
    const granted = matrix.filter((c) => c.role === 'billing' && c.outcome !== 'FORBIDDEN');
    expect(granted.length).toBeGreaterThan(0);
    for (const c of granted) {
      const billingThing = c.subject === 'Subscription' || c.subject === 'UsageRecord';
      expect(
        billingThing || (c.subject === 'Tenant' && c.action === 'read'),
        `${c.action} ${c.subject}`,
      ).toBe(true);
    }
  });

  it('denies every operation a role has no rule for', () => {
    let unmentioned = 0;
    for (const c of matrix) {
      if (rulesMention(policy.roles.get(c.role)!.rules, c.action, c.subject)) continue;
      unmentioned++;
      expect(c, `${c.role} ${c.action} ${c.subject}`).toMatchObject({ outcome: 'FORBIDDEN' });
    }
    expect(unmentioned).toBeGreaterThan(100);
  });

  it("never allows any role anything on another tenant's records", () => {
    for (const role of ROLES) {
      const ability = abilityFor(policy, member(role));
      for (const { action, subject } of declaredOperations()) {
        if (subject === 'Plugin') continue; // the marketplace catalog is global
        for (const row of recordsOf(subject, OTHER_TENANT)) {
          expect(ability.can(action, row), `${role} ${action} ${subject}`).toBe(false);
        }
      }
    }
  });
});
