import { describe, expect, it } from 'vitest';
import { startTestApi } from '../test/api-harness.js';

// E-mail triggers over GraphQL: a random address per trigger, listed only in its tenant,
// deleted with an audit event naming the caller.
const api = await startTestApi();
const owner = await api.signUp('Mailroom');
const stranger = await api.signUp('Elsewhere');

async function createTrigger(token: string) {
  const wf = await api.gql(
    `mutation { createWorkflow(input: { name: "mail-${crypto.randomUUID()}" }) { workflow { id } } }`,
    {},
    token,
  );
  const workflowId = wf.data?.createWorkflow.workflow.id as string;
  const res = await api.gql(
    `mutation($i: CreateEmailTriggerInput!) { createEmailTrigger(input: $i) {
       emailTrigger { id address enabled workflowId } } }`,
    { i: { workflowId } },
    token,
  );
  return { workflowId, trigger: res.data?.createEmailTrigger.emailTrigger };
}

const list = (token: string) =>
  api.gql('{ emailTriggers(first: 50) { nodes { id address } } }', {}, token);

describe('e-mail triggers over GraphQL', () => {
  it('gives each trigger its own unguessable address on the inbound domain', async () => {
    const a = await createTrigger(owner.token);
    const b = await createTrigger(owner.token);
    expect(a.trigger.address).toMatch(/^[0-9a-f]{20}@inbound\.roster\.test$/);
    expect(b.trigger.address).not.toBe(a.trigger.address);
    expect(a.trigger).toMatchObject({ enabled: true, workflowId: a.workflowId });
    const { rows } = await api.db.ownerPool.query(
      `SELECT actor_type, actor_id, after FROM audit_events
        WHERE kind = 'emailTrigger.created' AND tenant_id = $1 AND after->>'localPart' = $2`,
      [owner.tenantId, a.trigger.address.split('@')[0]],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor_type: 'member', actor_id: owner.userId });
  });

  it('refuses a workflow of another tenant', async () => {
    const theirs = await createTrigger(stranger.token);
    const res = await api.gql(
      `mutation($i: CreateEmailTriggerInput!) { createEmailTrigger(input: $i) { emailTrigger { id } } }`,
      { i: { workflowId: theirs.workflowId } },
      owner.token,
    );
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it("lists only the tenant's triggers, and another tenant cannot delete them", async () => {
    const mine = await createTrigger(owner.token);
    const mineListed = (await list(owner.token)).data?.emailTriggers.nodes.map(
      (n: { id: string }) => n.id,
    );
    expect(mineListed).toContain(mine.trigger.id);
    const theirsListed = (await list(stranger.token)).data?.emailTriggers.nodes.map(
      (n: { id: string }) => n.id,
    );
    expect(theirsListed).not.toContain(mine.trigger.id);
    const del = `mutation($i: DeleteEmailTriggerInput!) { deleteEmailTrigger(input: $i) { deletedId } }`;
    const refused = await api.gql(del, { i: { id: mine.trigger.id } }, stranger.token);
    expect(refused.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const deleted = await api.gql(del, { i: { id: mine.trigger.id } }, owner.token);
    expect(deleted.data?.deleteEmailTrigger.deletedId).toBe(mine.trigger.id);
    const after = (await list(owner.token)).data?.emailTriggers.nodes.map(
      (n: { id: string }) => n.id,
    );
    expect(after).not.toContain(mine.trigger.id);
    const { rows } = await api.db.ownerPool.query(
      `SELECT actor_id FROM audit_events
        WHERE kind = 'emailTrigger.deleted' AND tenant_id = $1 AND before->>'localPart' = $2`,
      [owner.tenantId, mine.trigger.address.split('@')[0]],
    );
    expect(rows).toEqual([{ actor_id: owner.userId }]);
  });
});
