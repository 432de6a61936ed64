import { describe, expect, it } from 'vitest';
import { startTestApi } from '../test/api-harness.js';

const api = await startTestApi();
const a = await api.signUp('Tenant A');
const b = await api.signUp('Tenant B');
const created = await api.gql(
  `mutation { createWorkflow(input: { name: "A's secret process" }) { workflow { id } } }`,
  {},
  a.token,
);
const aWorkflow = created.data?.createWorkflow.workflow.id as string;
const aKey = (
  await api.gql(
    `mutation { createApiKey(input: { name: "A key", scopes: ["workflows:read"] }) { apiKey { id } } }`,
    {},
    a.token,
  )
).data?.createApiKey.apiKey.id as string;
const aTenant = Buffer.from(`Tenant:${a.tenantId}`).toString('base64url');

describe("tenant B asking for tenant A's objects", () => {
  it.each([
    ['workflow by id', `query($id: ID!) { workflow(id: $id) { name } }`, { id: aWorkflow }],
    ['node by id', `query($id: ID!) { node(id: $id) { id } }`, { id: aWorkflow }],
    ["A's tenant as a node", `query($id: ID!) { node(id: $id) { id } }`, { id: aTenant }],
    [
      'rename',
      `mutation($id: ID!) { renameWorkflow(input: { id: $id, name: "pwned" }) { workflow { name } } }`,
      { id: aWorkflow },
    ],
    [
      'archive',
      `mutation($id: ID!) { archiveWorkflow(input: { id: $id }) { workflow { status } } }`,
      { id: aWorkflow },
    ],
    [
      'add a version',
      `mutation($id: ID!) { createWorkflowVersion(input: { workflowId: $id, definition: { start: "x", steps: { x: { type: "succeed" } } } }) { workflowVersion { version } } }`,
      { id: aWorkflow },
    ],
    [
      'revoke a key',
      `mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { revokedAt } } }`,
      { id: aKey },
    ],
    [
      'switch into A',
      `mutation($id: ID!) { switchTenant(input: { tenantId: $id }) { viewer { role } } }`,
      { id: aTenant },
    ],
  ])('%s gets NOT_FOUND', async (_name, query, variables) => {
    const r = await api.gql(query, variables, b.token);
    expect(r.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(r.data ?? null).toBeNull();
  });

  it("leaves A's rows untouched", async () => {
    const r = await api.gql(
      `query($id: ID!) { workflow(id: $id) { name status latestVersion } }`,
      { id: aWorkflow },
      a.token,
    );
    expect(r.data?.workflow).toEqual({
      name: "A's secret process",
      status: 'ACTIVE',
      latestVersion: 0,
    });
    const { rows } = await api.db.ownerPool.query(
      'SELECT revoked_at FROM api_keys WHERE tenant_id = $1',
      [a.tenantId],
    );
    expect(rows.every((k) => k.revoked_at === null)).toBe(true);
  });

  it("never lists A's rows", async () => {
    await api.gql(
      `mutation { createWorkflow(input: { name: "B's own" }) { workflow { id } } }`,
      {},
      b.token,
    );
    const lists = await api.gql(
      '{ workflows(first: 100) { nodes { name } } members { nodes { email } } apiKeys { nodes { name } } }',
      {},
      b.token,
    );
    expect(lists.data?.workflows.nodes).toEqual([{ name: "B's own" }]);
    expect(lists.data?.members.nodes).toEqual([{ email: b.email }]);
    expect(lists.data?.apiKeys.nodes).toEqual([]);
    expect(JSON.stringify(lists)).not.toContain('secret process');
  });
});
