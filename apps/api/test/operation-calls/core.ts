import { PASSWORD, type TestApi } from '../api-harness.js';
import type { Fixture, MatrixOwner, OperationCall } from './types.js';

// The core domain's operations (identity, API keys, workflows, runs), shared by the permission
// matrix and the audit coverage test. Other domains add theirs in ./<domain>-calls.ts.

export const DEFINITION = { start: 'done', steps: { done: { type: 'succeed' } } };

/** Objects owned by the tenant's owner (so ownership conditions of other roles do not match). */
export async function coreFixture(api: TestApi, owner: MatrixOwner): Promise<Fixture> {
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

/** Marks the fixture's run failed at its step, as a worker would, so it can be retried. */
async function failRun(api: TestApi, fixture: Fixture): Promise<void> {
  const runId = Buffer.from(fixture.runId as string, 'base64url')
    .toString()
    .split(':')[1];
  // The test's owner connection is a superuser: the runtime role may not fail runs by hand.
  await api.db.ownerPool.query(
    `UPDATE runs SET status = 'failed', failed_step = 'done', finished_at = now() WHERE id = $1`,
    [runId],
  );
}

export const CORE_CALLS: Record<string, OperationCall> = {
  startRun: {
    query: `mutation($i: StartRunInput!) { startRun(input: $i) { created } }`,
    variables: (f) => ({ i: { workflowId: f.workflowId, input: {} } }),
    audit: { action: 'run.created' },
  },
  startRuns: {
    query: `mutation($i: StartRunsInput!) { startRuns(input: $i) { results { created } } }`,
    variables: (f) => ({
      i: { runs: [{ workflowId: f.workflowId }, { workflowId: f.workflowId }] },
    }),
    audit: { action: 'run.created' },
  },
  cancelRun: {
    query: `mutation($i: RunIdInput!) { cancelRun(input: $i) { run { status } } }`,
    variables: (f) => ({ i: { id: f.runId } }),
    record: { subject: 'Run', row: {} },
    audit: { action: 'run.cancelled' },
  },
  retryRun: {
    query: `mutation($i: RunIdInput!) { retryRun(input: $i) { run { status } } }`,
    variables: (f) => ({ i: { id: f.runId } }),
    allowedErrors: ['CONFLICT'],
    audit: { action: 'run.retried', prepare: failRun },
  },
  replayStep: {
    query: `mutation($i: ReplayStepInput!) { replayStep(input: $i) { run { status } } }`,
    variables: (f) => ({ i: { runId: f.runId, stepId: 'done' } }),
    allowedErrors: ['CONFLICT'],
    audit: { action: 'step.replayed', prepare: failRun },
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
    audit: { action: 'tenant.created', actor: 'newMember' },
  },
  signIn: {
    query: `mutation($i: SignInInput!) { signIn(input: $i) { token } }`,
    audit: { action: 'auth.signed_in' },
  },
  signOut: { query: 'mutation { signOut { signedOut } }', audit: { action: 'auth.signed_out' } },
  switchTenant: {
    query: `mutation($i: SwitchTenantInput!) { switchTenant(input: $i) { viewer { role } } }`,
    audit: { action: 'auth.tenant_switched' },
  },
  acceptInvitation: {
    query: `mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { token } }`,
    variables: (f) => ({ i: { token: f.invitationToken, password: PASSWORD, name: 'New' } }),
    audit: { action: 'member.joined', actor: 'newMember' },
  },
  inviteMember: {
    query: `mutation($i: InviteMemberInput!) { inviteMember(input: $i) { token } }`,
    variables: () => ({ i: { email: `m-${crypto.randomUUID()}@example.test`, role: 'viewer' } }),
    audit: { action: 'member.invited' },
  },
  tenant: { query: '{ tenant { name } }' },
  members: { query: '{ members(first: 5) { nodes { role } } }' },
  apiKeys: { query: '{ apiKeys(first: 5) { nodes { name } } }' },
  createApiKey: {
    query: `mutation { createApiKey(input: { name: "m", scopes: ["workflows:read"] }) { token } }`,
    audit: { action: 'apikey.created' },
  },
  revokeApiKey: {
    query: `mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { apiKey { revokedAt } } }`,
    variables: (f) => ({ i: { id: f.apiKeyId } }),
    record: { subject: 'ApiKey', row: {} },
    audit: { action: 'apikey.revoked' },
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
    audit: { action: 'workflow.created' },
  },
  renameWorkflow: {
    query: `mutation($i: RenameWorkflowInput!) { renameWorkflow(input: $i) { workflow { name } } }`,
    variables: (f) => ({ i: { id: f.workflowId, name: `renamed-${crypto.randomUUID()}` } }),
    record: { subject: 'Workflow', row: {} },
    audit: { action: 'workflow.renamed' },
  },
  archiveWorkflow: {
    query: `mutation($i: ArchiveWorkflowInput!) { archiveWorkflow(input: $i) { workflow { status } } }`,
    variables: (f) => ({ i: { id: f.workflowId } }),
    record: { subject: 'Workflow', row: {} },
    audit: { action: 'workflow.archived' },
  },
  createWorkflowVersion: {
    query: `mutation($i: CreateWorkflowVersionInput!) { createWorkflowVersion(input: $i) { workflowVersion { version } } }`,
    variables: (f) => ({ i: { workflowId: f.workflowId, definition: DEFINITION } }),
    record: { subject: 'WorkflowVersion', row: {} },
    audit: { action: 'workflowVersion.created' },
  },
};
