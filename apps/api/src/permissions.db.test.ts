import { type Actor, abilityFor, loadPolicyFile, subjectRecord } from '@roster/authz';
import { describe, expect, it, vi } from 'vitest';
import { PASSWORD, startTestApi } from '../test/api-harness.js';
import { CALLS, ownerFixture } from '../test/operation-calls/catalog.js';
import type { OperationCall } from '../test/operation-calls/types.js';
import { operationRequirements } from './graphql/permissions.js';
import { ROLES_FILE } from './server.js';

// Each case calls every operation of the schema (well over a hundred) as one role or key set:
// on a loaded 2-core machine that takes minutes, not the project's default minute.
vi.setConfig({ testTimeout: 300_000 });

// The permission matrix, generated from policies/roles.yaml: every role x every operation of the
// schema is called for real and must be allowed or FORBIDDEN exactly as the policy says.
const api = await startTestApi();
const policy = await loadPolicyFile(ROLES_FILE);
const owner = await api.signUp('Matrix');

function expectedAllowed(actor: Actor, operation: string): boolean {
  const call = CALLS[operation];
  const ability = abilityFor(policy, actor);
  if (call?.checks) return ability.can(call.checks.action, call.checks.subject);
  const requirement = operationRequirements().get(operation);
  if (requirement?.kind !== 'ability') return true;
  const target = call?.record
    ? subjectRecord(call.record.subject, {
        tenantId: owner.tenantId,
        createdBy: owner.userId,
        ...call.record.row,
      })
    : requirement.subject;
  return ability.can(requirement.action, target);
}

async function call(operation: string, token: string, email: string) {
  const spec = CALLS[operation] as OperationCall;
  const fixture = await ownerFixture(api, owner);
  const variables =
    operation === 'signIn'
      ? { i: { email, password: PASSWORD } }
      : operation === 'switchTenant'
        ? { i: { tenantId: Buffer.from(`Tenant:${owner.tenantId}`).toString('base64url') } }
        : (spec.variables?.(fixture) ?? {});
  return api.gql(spec.query.replace('NONCE', crypto.randomUUID()), variables, token);
}

const operations = [...operationRequirements().keys()].sort();
const roles = [...policy.roles.keys()];

describe('permission matrix (roles.yaml x schema operations)', () => {
  it('covers every operation of the schema', () => {
    expect(operations.filter((op) => !(op in CALLS))).toEqual([]);
    expect(operations.length).toBeGreaterThanOrEqual(27);
  });

  it.each(roles)(
    'role %s: each operation is allowed or FORBIDDEN as the policy says',
    async (role) => {
      const member =
        role === 'owner'
          ? { token: owner.token, userId: owner.userId, email: owner.email }
          : await api.addMember(owner.token, role);
      const actor: Actor = {
        kind: 'member',
        tenantId: owner.tenantId,
        memberId: member.userId,
        role,
      };
      const outcome: Record<string, string> = {};
      const expected: Record<string, string> = {};
      for (const operation of operations.filter((op) => op !== 'signOut')) {
        const result = await call(operation, member.token, member.email);
        const code = result.errors?.[0]?.extensions?.code as string | undefined;
        const tolerated =
          code !== undefined && (CALLS[operation]?.allowedErrors ?? []).includes(code);
        outcome[operation] = tolerated
          ? 'allowed'
          : code === 'FORBIDDEN'
            ? 'FORBIDDEN'
            : code
              ? `error ${code}: ${result.errors?.[0]?.message}`
              : 'allowed';
        expected[operation] = expectedAllowed(actor, operation) ? 'allowed' : 'FORBIDDEN';
      }
      expect(outcome).toEqual(expected);
    },
  );

  it('lets every signed-in role sign out', async () => {
    for (const role of roles.filter((r) => r !== 'owner')) {
      const m = await api.addMember(owner.token, role);
      expect((await call('signOut', m.token, m.email)).data?.signOut.signedOut).toBe(true);
    }
  });

  it('hides e-mail addresses from roles whose field rules say so', async () => {
    for (const role of roles) {
      const m = role === 'owner' ? owner : await api.addMember(owner.token, role);
      const ability = abilityFor(policy, {
        kind: 'member',
        tenantId: owner.tenantId,
        memberId: m.userId,
        role,
      });
      if (!ability.can('read', 'Member')) continue;
      const r = await api.gql('{ members(first: 100) { nodes { email } } }', {}, m.token);
      const nodes = (r.data?.members.nodes ?? []) as { email: string | null }[];
      const emails = nodes.map((n) => n.email);
      if (ability.can('read', 'Member', 'email')) expect(emails).toContain(owner.email);
      else
        expect(
          emails.every((e) => e === null),
          `${role} sees no e-mail`,
        ).toBe(true);
    }
  });
});

describe('API keys never exceed their scopes or their creator', () => {
  const scopeSets = [
    ['workflows:read'],
    ['workflows:read', 'workflows:write'],
    ['members:read'],
    ['runs:write'],
  ];

  it.each(roles)('keys created by a %s', async (role) => {
    const creator = role === 'owner' ? owner : await api.addMember(owner.token, role);
    const creatorAbility = abilityFor(policy, {
      kind: 'member',
      tenantId: owner.tenantId,
      memberId: creator.userId,
      role,
    });
    if (!creatorAbility.can('create', 'ApiKey')) return;
    for (const scopes of scopeSets) {
      const made = await api.gql(
        `mutation($s: [String!]!) { createApiKey(input: { name: "p", scopes: $s }) { token } }`,
        { s: scopes },
        creator.token,
      );
      const token = made.data?.createApiKey.token as string;
      const keyActor: Actor = {
        kind: 'apiKey',
        tenantId: owner.tenantId,
        keyId: 'k',
        scopes,
        creator: { memberId: creator.userId, role },
      };
      const memberActor: Actor = {
        kind: 'member',
        tenantId: owner.tenantId,
        memberId: creator.userId,
        role,
      };
      for (const operation of operations) {
        const requirement = operationRequirements().get(operation);
        if (requirement?.kind !== 'ability' || operation === 'createApiKey') continue;
        const result = await call(operation, token, '');
        const allowed = result.errors?.[0]?.extensions?.code !== 'FORBIDDEN';
        if (operation === 'startRuns' && allowed)
          expect(result.errors, `${role} key startRuns`).toBeUndefined();
        expect(allowed, `${role} key ${scopes} ${operation}`).toBe(
          expectedAllowed(keyActor, operation),
        );
        if (allowed)
          expect(expectedAllowed(memberActor, operation), `${operation} exceeds the creator`).toBe(
            true,
          );
      }
    }
  });
});
