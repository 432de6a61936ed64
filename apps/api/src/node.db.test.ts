// node(id) resolves every type with a global id: the owner gets each object back (same id,
// same type); another tenant gets NOT_FOUND, never FORBIDDEN or the object; a role that may not
// read the type gets FORBIDDEN, as from the type's own query.
import { describe, expect, it, vi } from 'vitest';
import { startTestApi } from '../test/api-harness.js';
import { ownerFixture } from '../test/operation-calls/catalog.js';
import { parseGlobalId } from './graphql/global-id.js';
import { NODE_TYPE_NAMES } from './graphql/resolvers/node-resolver.js';

vi.setConfig({ testTimeout: 120_000 });

const api = await startTestApi();
const owner = await api.signUp('Nodes');
const stranger = await api.signUp('Stranger');
const billing = await api.addMember(owner.token, 'billing');
const fixture = await ownerFixture(api, owner);

const NODE = `query($id: ID!) { node(id: $id) { __typename id } }`;

/** Every global id the fixture made, plus the tenant, a member and an audit event. */
async function globalIds(): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const value of Object.values(fixture)) {
    const parsed = typeof value === 'string' ? parseGlobalId(value) : null;
    if (parsed && NODE_TYPE_NAMES.includes(parsed.type) && !ids.has(parsed.type)) {
      ids.set(parsed.type, value);
    }
  }
  const extra = await api.gql(
    `{ tenant { id } members(first: 1) { nodes { id } }
       auditEvents(first: 1) { nodes { id } } auditExports(first: 1) { nodes { id } }
       workflows(first: 1) { nodes { versions { id } } } }`,
    {},
    owner.token,
  );
  expect(extra.errors).toBeUndefined();
  const d = extra.data!;
  ids.set('Tenant', d.tenant.id);
  ids.set('Member', d.members.nodes[0].id);
  ids.set('AuditEvent', d.auditEvents.nodes[0].id);
  if (d.auditExports.nodes[0]) ids.set('AuditExport', d.auditExports.nodes[0].id);
  const version = d.workflows.nodes.flatMap((w: { versions: { id: string }[] }) => w.versions)[0];
  if (version) ids.set('WorkflowVersion', version.id);
  return ids;
}

const ids = await globalIds();
/** The marketplace catalog is global: listed plugins and approved versions, as `plugin(id)` shows. */
const CATALOG = ['Plugin', 'PluginVersion'];
const tenantOwned = [...ids.entries()].filter(([type]) => !CATALOG.includes(type));

describe('node(id)', () => {
  it('has an object of almost every node type to try', () => {
    // Types the shared fixture does not make are listed here, so a gap is visible.
    const missing = NODE_TYPE_NAMES.filter((t) => !ids.has(t));
    expect(missing).toEqual([]);
  });

  it.each([...ids.entries()])('resolves a %s for its own tenant', async (type, id) => {
    const result = await api.gql(NODE, { id }, owner.token);
    expect(result.errors).toBeUndefined();
    expect(result.data?.node).toEqual({ __typename: type, id });
  });

  it.each(tenantOwned)("answers NOT_FOUND for another tenant's %s", async (_type, id) => {
    const result = await api.gql(NODE, { id }, stranger.token);
    expect(result.data?.node ?? null).toBeNull();
    expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('resolves the global catalog for every tenant, as plugin(id) does', async () => {
    const plugin = ids.get('Plugin')!;
    const own = await api.gql(
      'query($id: ID!) { plugin(id: $id) { id } }',
      { id: plugin },
      stranger.token,
    );
    expect(own.data?.plugin.id).toBe(plugin);
    for (const type of CATALOG) {
      const result = await api.gql(NODE, { id: ids.get(type) }, stranger.token);
      expect(result.data?.node.__typename).toBe(type);
    }
  });

  it('checks the same ability as the type’s own query (billing may not read workflows)', async () => {
    const own = await api.gql('{ workflows(first: 1) { nodes { id } } }', {}, billing.token);
    expect(own.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const viaNode = await api.gql(NODE, { id: ids.get('Workflow') }, billing.token);
    expect(viaNode.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const tenant = await api.gql(NODE, { id: ids.get('Tenant') }, billing.token);
    expect(tenant.data?.node.__typename).toBe('Tenant');
  });

  it('answers NOT_FOUND for malformed ids and unknown types', async () => {
    for (const id of ['nope', Buffer.from('Bogus:1').toString('base64url'), '']) {
      const result = await api.gql(NODE, { id }, owner.token);
      expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
  });
});
