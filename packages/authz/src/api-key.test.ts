// An API key's ability is the intersection of its scopes and its creator's role. The
// property test draws seeded random scope sets and creators and checks every operation on
// every sample record against the creator's own ability and the scope definitions in the YAML.
import { describe, expect, it } from 'vitest';
import {
  ME,
  MY_QUEUE,
  member,
  ROLES_YAML,
  recordsOf,
  rulesMention,
  SOMEONE,
  seededRandom,
  TENANT,
} from '../test/records.js';
import {
  type Actor,
  AuthzError,
  abilityFor,
  accessibleSqlCondition,
  declaredOperations,
  ForbiddenError,
  loadPolicyFile,
  subjectRecord,
} from './index.js';

const policy = await loadPolicyFile(ROLES_YAML);
const ROLES = [...policy.roles.keys()];
const SCOPES = [...policy.scopes.keys()];

function apiKey(role: string, scopes: string[]): Actor {
  return {
    kind: 'apiKey',
    tenantId: TENANT,
    keyId: 'key-1',
    scopes,
    creator: { memberId: ME, role, reviewQueues: [MY_QUEUE] },
  };
}

const scopeRules = (scopes: string[]) => scopes.flatMap((s) => policy.scopes.get(s)!.rules);
const MEMBER_FIELDS = ['id', 'displayName', 'role', 'email'];

describe('API key = scopes ∩ creator role (seeded property test)', () => {
  const random = seededRandom(20_240_601);
  const cases = Array.from({ length: 60 }, () => ({
    role: ROLES[Math.floor(random() * ROLES.length)]!,
    scopes: SCOPES.filter(() => random() < 0.3),
  }));

  it.each(cases)('a $role key with scopes $scopes', ({ role, scopes }) => {
    const key = abilityFor(policy, apiKey(role, scopes));
    const creator = abilityFor(policy, member(role));
    const rules = scopeRules(scopes);
    let allowedSomewhere = false;
    for (const { action, subject } of declaredOperations()) {
      const scopeGrants = rulesMention(rules, action, subject);
      for (const row of recordsOf(subject, TENANT)) {
        const allowed = key.can(action, row);
        allowedSomewhere ||= allowed;
        // Never exceeds the creator nor the scopes...
        if (allowed) expect(creator.can(action, row), `${action} ${subject}`).toBe(true);
        if (allowed) expect(scopeGrants, `${action} ${subject}`).toBe(true);
        // ...and loses nothing both allow (scope rules carry only the tenant condition).
        if (scopeGrants && creator.can(action, row)) expect(allowed).toBe(true);
      }
    }
    for (const field of MEMBER_FIELDS) {
      const row = recordsOf('Member', TENANT)[0]!;
      const allowed = key.can('read', row, field);
      expect(allowed).toBe(
        creator.can('read', row, field) && rulesMention(rules, 'read', 'Member', field),
      );
      expect(key.permittedFields('read', row, MEMBER_FIELDS).includes(field)).toBe(allowed);
    }
    if (scopes.length === 0) expect(allowedSomewhere).toBe(false);
  });

  it('draws cases where each layer alone refuses something the other allows', () => {
    let scopeRefuses = 0;
    let creatorRefuses = 0;
    for (const { role, scopes } of cases) {
      const key = abilityFor(policy, apiKey(role, scopes));
      const creator = abilityFor(policy, member(role));
      for (const { action, subject } of declaredOperations()) {
        const scopeGrants = rulesMention(scopeRules(scopes), action, subject);
        const row = recordsOf(subject, TENANT)[0]!;
        if (key.can(action, row)) continue;
        if (creator.can(action, row)) scopeRefuses++;
        else if (scopeGrants) creatorRefuses++;
      }
    }
    expect(scopeRefuses).toBeGreaterThan(0);
    expect(creatorRefuses).toBeGreaterThan(0);
  });

  it('grows with more scopes and never beyond the owner creator', () => {
    const random2 = seededRandom(7);
    for (let i = 0; i < 20; i++) {
      const small = SCOPES.filter(() => random2() < 0.3);
      const large = [...new Set([...small, ...SCOPES.filter(() => random2() < 0.3)])];
      const role = ROLES[Math.floor(random2() * ROLES.length)]!;
      const smallKey = abilityFor(policy, apiKey(role, small));
      const largeKey = abilityFor(policy, apiKey(role, large));
      for (const { action, subject } of declaredOperations()) {
        for (const row of recordsOf(subject, TENANT)) {
          if (smallKey.can(action, row)) expect(largeKey.can(action, row)).toBe(true);
        }
      }
    }
  });
});

describe('API key examples', () => {
  it("applies the creator's ownership conditions to the key", () => {
    const key = abilityFor(policy, apiKey('builder', ['workflows:write']));
    const mine = subjectRecord('Workflow', { tenantId: TENANT, createdBy: ME });
    const theirs = subjectRecord('Workflow', { tenantId: TENANT, createdBy: SOMEONE });
    expect(key.can('update', mine)).toBe(true);
    expect(key.can('update', theirs)).toBe(false);
    // A scope the creator's role cannot back grants nothing.
    expect(abilityFor(policy, apiKey('viewer', ['workflows:write'])).can('update', mine)).toBe(
      false,
    );
  });

  it('says which layer refused', () => {
    const key = abilityFor(policy, apiKey('owner', ['runs:read']));
    expect(() => key.assert('create', 'Run')).toThrow(ForbiddenError);
    expect(() => key.assert('create', 'Run')).toThrow(/API key's scopes \(runs:read\)/);
    const viewerKey = abilityFor(policy, apiKey('viewer', ['runs:write']));
    expect(() => viewerKey.assert('cancel', 'Run')).toThrow(/creator's role "viewer"/);
  });

  it('rejects scopes and roles the policy does not define', () => {
    expect(() => abilityFor(policy, apiKey('builder', ['runs:admin']))).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_SCOPE' }),
    );
    expect(() => abilityFor(policy, apiKey('superuser', []))).toThrow(AuthzError);
    expect(() => abilityFor(policy, member('superuser'))).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_ROLE' }),
    );
  });

  it('filters lists by both layers in SQL, and denies when either layer allows none', () => {
    const columns = { tenantId: 'w.tenant_id', createdBy: 'w.created_by' };
    const key = abilityFor(policy, apiKey('builder', ['workflows:write']));
    expect(accessibleSqlCondition(key, 'update', 'Workflow', columns)).toEqual({
      sql: '(w.tenant_id = $1) AND ((w.created_by = $2) AND (w.tenant_id = $3))',
      params: [TENANT, ME, TENANT],
    });
    const readOnly = abilityFor(policy, apiKey('builder', ['workflows:read']));
    expect(accessibleSqlCondition(readOnly, 'update', 'Workflow', columns)).toBeNull();
    const viewerKey = abilityFor(policy, apiKey('viewer', ['workflows:write']));
    expect(accessibleSqlCondition(viewerKey, 'update', 'Workflow', columns)).toBeNull();
  });
});
