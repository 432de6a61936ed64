import { signWebhook } from '@roster/engine';
import { describe, expect, it } from 'vitest';
import { startTestApi } from '../test/api-harness.js';

// Inbound webhook triggers through the real HTTP route: Standard Webhooks signatures, replay
// window, webhook-id dedupe, tenant isolation and the body limit.
const api = await startTestApi();
const owner = await api.signUp('Hooks');
const stranger = await api.signUp('Elsewhere');

async function workflowWithTrigger(token: string) {
  const workflowId = await api.publishWorkflow(token, `hook-${crypto.randomUUID()}`);
  const created = await api.gql(
    `mutation($i: CreateWebhookTriggerInput!) { createWebhookTrigger(input: $i) {
       signingSecret webhookTrigger { id path } } }`,
    { i: { workflowId, name: 'inbound' } },
    token,
  );
  const payload = created.data?.createWebhookTrigger;
  return {
    workflowId,
    path: payload.webhookTrigger.path as string,
    secret: payload.signingSecret as string,
  };
}

const hook = await workflowWithTrigger(owner.token);

function post(path: string, body: string, headers: Record<string, string>) {
  return api.app.inject({
    method: 'POST',
    url: path,
    payload: body,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

async function runsOf(workflowId: string) {
  const { rows } = await api.db.ownerPool.query<{ id: string; input: unknown }>(
    'SELECT id, input FROM runs WHERE workflow_id = $1',
    [Buffer.from(workflowId, 'base64url').toString('utf8').split(':')[1]],
  );
  return rows;
}

describe('POST /hooks/:tenant/:trigger', () => {
  it('shows the whsec_ secret once and never lists it', async () => {
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(hook.path).toBe(`/hooks/${owner.tenantId}/${hook.path.split('/')[3]}`);
    const listed = await api.gql(
      '{ webhookTriggers(first: 5) { nodes { name path } } }',
      {},
      owner.token,
    );
    expect(JSON.stringify(listed.data)).not.toContain(hook.secret.slice(6));
  });

  it('starts a run for a signed message and answers 202 with its id; a redelivery starts nothing', async () => {
    const body = JSON.stringify({ order: 17 });
    const headers = signWebhook(hook.secret, 'msg_first', body);
    const first = await post(hook.path, body, { ...headers });
    expect(first.statusCode).toBe(202);
    const { runId } = first.json() as { runId: string };
    const run = await api.gql(
      `query($id: ID!) { run(id: $id) { input } }`,
      { id: runId },
      owner.token,
    );
    expect(run.data?.run.input).toEqual({ order: 17 });

    // The same webhook-id again (the sender retried): 200, the same run, no second run.
    const again = await post(hook.path, body, { ...signWebhook(hook.secret, 'msg_first', body) });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ runId });
    expect(await runsOf(hook.workflowId)).toHaveLength(1);
  });

  it('refuses a bad signature, a tampered body and a replayed old message with 401', async () => {
    const body = JSON.stringify({ order: 18 });
    const wrongKey = signWebhook(
      `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
      'msg_bad',
      body,
    );
    expect((await post(hook.path, body, { ...wrongKey })).statusCode).toBe(401);

    const signed = signWebhook(hook.secret, 'msg_tamper', body);
    expect((await post(hook.path, JSON.stringify({ order: 1800 }), { ...signed })).statusCode).toBe(
      401,
    );

    // Correctly signed, but 10 minutes old: outside the 5-minute window.
    const old = signWebhook(hook.secret, 'msg_old', body, new Date(Date.now() - 10 * 60_000));
    const replay = await post(hook.path, body, { ...old });
    expect(replay.statusCode).toBe(401);
    expect(replay.json()).toMatchObject({ error: { code: 'SIGNATURE_INVALID' } });
    // And from the future beyond the window.
    const future = signWebhook(hook.secret, 'msg_future', body, new Date(Date.now() + 10 * 60_000));
    expect((await post(hook.path, body, { ...future })).statusCode).toBe(401);

    const unsigned = await post(hook.path, body, {});
    expect(unsigned.statusCode).toBe(401);
    expect(await runsOf(hook.workflowId)).toHaveLength(1);
  });

  it("answers 404 alike for an unknown trigger and for another tenant's trigger", async () => {
    const body = '{}';
    const triggerId = hook.path.split('/')[3] as string;
    const signed = signWebhook(hook.secret, 'msg_x', body);
    const unknown = await post(`/hooks/${owner.tenantId}/${crypto.randomUUID()}`, body, {
      ...signed,
    });
    expect(unknown.statusCode).toBe(404);
    // The owner's trigger addressed under another tenant: even a valid signature finds nothing.
    const crossed = await post(`/hooks/${stranger.tenantId}/${triggerId}`, body, { ...signed });
    expect(crossed.statusCode).toBe(404);
    expect(crossed.json()).toEqual(unknown.json());
    expect((await post('/hooks/not-a-tenant/not-a-trigger', body, { ...signed })).statusCode).toBe(
      404,
    );
  });

  it('refuses a body over 256 KiB with 413 and a body that is not a JSON object with 400', async () => {
    const big = JSON.stringify({ blob: 'x'.repeat(300 * 1024) });
    const tooBig = await post(hook.path, big, { ...signWebhook(hook.secret, 'msg_big', big) });
    expect(tooBig.statusCode).toBe(413);
    const list = '[1,2,3]';
    const notObject = await post(hook.path, list, {
      ...signWebhook(hook.secret, 'msg_list', list),
    });
    expect(notObject.statusCode).toBe(400);
  });
});
