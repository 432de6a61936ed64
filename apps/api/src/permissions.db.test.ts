/// <reference types="vite/client" />
import { type Actor, abilityFor, loadPolicyFile, subjectRecord } from '@roster/authz';
import { describe, expect, it } from 'vitest';
import { PASSWORD, startTestApi } from '../test/api-harness.js';
import type { DomainCalls, Fixture, OperationCall } from '../test/operation-calls/types.js';
import { operationRequirements } from './graphql/permissions.js';
import { ROLES_FILE } from './server.js';

// The permission matrix, generated from policies/roles.yaml: every role x every operation of the
// schema is called for real and must be allowed or FORBIDDEN exactly as the policy says.
const api = await startTestApi();
const policy = await loadPolicyFile(ROLES_FILE);
const owner = await api.signUp('Matrix');

const DEFINITION = { start: 'done', steps: { done: { type: 'succeed' } } };

/** Objects owned by the tenant's owner (so ownership conditions of other roles do not match). */
async function coreFixture(): Promise<Fixture> {
  const wf = await api.gql(
    `mutation { createWorkflow(input: { name: "wf-${crypto.randomUUID()}" }) { workflow { id } } }`,
    {},
    owner.token,
  );
  const key = await api.gql(
    `mutation { createApiKey(input: { name: "k", scopes: ["workflows:read"] }) { apiKey { id } } }`,
    {},
    owner.token,
  );
  const inv = await api.gql(
    `mutation($e: String!) { inviteMember(input: { email: $e, role: "viewer" }) { token } }`,
    { e: `inv-${crypto.randomUUID()}@example.test` },
    owner.token,
  );
  const workflowId = wf.data?.createWorkflow.workflow.id as string;
  await api.gql(
    `mutation($i: CreateWorkflowVersionInput!) { createWorkflowVersion(input: $i) { workflowVersion { version } } }`,
    { i: { workflowId, definition: DEFINITION } },
    owner.token,
  );
  const run = await api.gql(
    `mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`,
    { i: { workflowId, input: { n: 1 } } },
    owner.token,
  );
  return {
    workflowId,
    runId: run.data?.startRun.run.id,
    apiKeyId: key.data?.createApiKey.apiKey.id,
    invitationToken: inv.data?.inviteMember.token,
  };
}

const CORE_CALLS: Record<string, OperationCall> = {
  startRun: {
    query: `mutation($i: StartRunInput!) { startRun(input: $i) { created } }`,
    variables: (f) => ({ i: { workflowId: f.workflowId, input: {} } }),
  },
  startRuns: {
    query: `mutation($i: StartRunsInput!) { startRuns(input: $i) { results { created } } }`,
    variables: (f) => ({
      i: { runs: [{ workflowId: f.workflowId }, { workflowId: f.workflowId }] },
    }),
  },
  cancelRun: {
    query: `mutation($i: RunIdInput!) { cancelRun(input: $i) { run { status } } }`,
    variables: (f) => ({ i: { id: f.runId } }),
    record: { subject: 'Run', row: { createdBy: null } },
  },
  retryRun: {
    query: `mutation($i: RunIdInput!) { retryRun(input: $i) { run { status } } }`,
    variables: (f) => ({ i: { id: f.runId } }),
    allowedErrors: ['CONFLICT'],
  },
  replayStep: {
    query: `mutation($i: ReplayStepInput!) { replayStep(input: $i) { run { status } } }`,
    variables: (f) => ({ i: { runId: f.runId, stepId: 'done' } }),
    allowedErrors: ['CONFLICT'],
  },
  run: {
    query: `query($id: ID!) { run(id: $id) { status steps { stepId } } }`,
    variables: (f) => ({ id: f.runId }),
  },
  runs: { query: '{ runs(first: 5) { nodes { status } } }' },
  deadLetters: { query: '{ deadLetters(first: 5) { failedStep } }' },
  viewer: { query: '{ viewer { userId } }' },
  signUp: {
    query: `mutation($i: SignUpInput!) { signUp(input: $i) { token } }`,
    variables: () => ({
      i: {
        email: `su-${crypto.randomUUID()}@example.test`,
        password: PASSWORD,
        name: 'N',
        tenantName: 'T',
      },
    }),
  },
  signIn: { query: `mutation($i: SignInInput!) { signIn(input: $i) { token } }` },
  signOut: { query: 'mutation { signOut { signedOut } }' },
  switchTenant: {
    query: `mutation($i: SwitchTenantInput!) { switchTenant(input: $i) { viewer { role } } }`,
  },
  acceptInvitation: {
    query: `mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { token } }`,
    variables: (f) => ({ i: { token: f.invitationToken, password: PASSWORD, name: 'New' } }),
  },
  inviteMember: {
    query: `mutation($i: InviteMemberInput!) { inviteMember(input: $i) { token } }`,
    variables: () => ({ i: { email: `m-${crypto.randomUUID()}@example.test`, role: 'viewer' } }),
  },
  tenant: { query: '{ tenant { name } }' },
  members: { query: '{ members(first: 5) { nodes { role } } }' },
  apiKeys: { query: '{ apiKeys(first: 5) { nodes { name } } }' },
  createApiKey: {
    query: `mutation { createApiKey(input: { name: "m", scopes: ["workflows:read"] }) { token } }`,
  },
  revokeApiKey: {
    query: `mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { apiKey { revokedAt } } }`,
    variables: (f) => ({ i: { id: f.apiKeyId } }),
    record: { subject: 'ApiKey', row: {} },
  },
  workflows: { query: '{ workflows(first: 5) { nodes { name } } }' },
  workflow: {
    query: `query($id: ID!) { workflow(id: $id) { name } }`,
    variables: (f) => ({ id: f.workflowId }),
  },
  node: {
    query: `query($id: ID!) { node(id: $id) { id } }`,
    variables: (f) => ({ id: f.workflowId }),
    checks: { action: 'read', subject: 'Workflow' },
  },
  createWorkflow: {
    query: 'mutation { createWorkflow(input: { name: "wf-NONCE" }) { workflow { id } } }',
  },
  renameWorkflow: {
    query: `mutation($i: RenameWorkflowInput!) { renameWorkflow(input: $i) { workflow { name } } }`,
    variables: (f) => ({ i: { id: f.workflowId, name: `renamed-${crypto.randomUUID()}` } }),
    record: { subject: 'Workflow', row: {} },
  },
  archiveWorkflow: {
    query: `mutation($i: ArchiveWorkflowInput!) { archiveWorkflow(input: $i) { workflow { status } } }`,
    variables: (f) => ({ i: { id: f.workflowId } }),
    record: { subject: 'Workflow', row: {} },
  },
  createWorkflowVersion: {
    query: `mutation($i: CreateWorkflowVersionInput!) { createWorkflowVersion(input: $i) { workflowVersion { version } } }`,
    variables: (f) => ({ i: { workflowId: f.workflowId, definition: DEFINITION } }),
    record: { subject: 'WorkflowVersion', row: {} },
  },
};

// Other domains (marketplace, models, reviews, audit, ...) add their operations in
// apps/api/test/operation-calls/*.ts, so each can grow without editing this file.
const domains = Object.values(
  import.meta.glob<{ default: DomainCalls }>('../test/operation-calls/*-calls.ts', { eager: true }),
).map((m) => m.default);
const CALLS: Record<string, OperationCall> = Object.assign(
  {},
  CORE_CALLS,
  ...domains.map((d) => d.calls),
);

async function ownerFixture(): Promise<Fixture> {
  const fixture = await coreFixture();
  for (const domain of domains) {
    if (domain.fixture) Object.assign(fixture, await domain.fixture(api, owner));
  }
  return fixture;
}

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
  const fixture = await ownerFixture();
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
