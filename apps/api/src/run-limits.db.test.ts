import { signWebhook } from '@roster/engine';
import { describe, expect, it } from 'vitest';
import { startTestApi } from '../test/api-harness.js';

// The tenant limit of running runs (ROSTER_MAX_RUNS_PER_TENANT) as the API applies it: to runs
// started by GraphQL and by webhooks, and to the runs a cancellation admits. No worker runs here,
// so an admitted run stays `running`.
const api = await startTestApi({ limits: { maxRunsPerTenant: 2 } });
const owner = await api.signUp('Limited');

const workflowId = await api.publishWorkflow(owner.token, 'limited');

const RUN = 'query($id: ID!) { run(id: $id) { status queuedFor } }';
const statusOf = async (id: string) => (await api.gql(RUN, { id }, owner.token)).data?.run;

describe('maxRunsPerTenant through the API', () => {
  it('queues what is over the limit, from startRuns and from a webhook, and a cancel admits the oldest', async () => {
    const started = await api.gql(
      `mutation($i: StartRunsInput!) { startRuns(input: $i) { results { run { id status queuedFor } } } }`,
      { i: { runs: [1, 2, 3].map((n) => ({ workflowId, input: { n } })) } },
      owner.token,
    );
    expect(started.errors, JSON.stringify(started.errors)).toBeUndefined();
    const results: Array<{ run: { id: string; status: string } }> =
      started.data?.startRuns.results ?? [];
    const runs = results.map((r) => r.run);
    expect(runs.map((r) => r.status)).toEqual(['running', 'running', 'queued']);
    expect(await statusOf(runs[2]?.id as string)).toEqual({
      status: 'queued',
      queuedFor: 'TENANT',
    });

    const created = await api.gql(
      `mutation($i: CreateWebhookTriggerInput!) { createWebhookTrigger(input: $i) {
         signingSecret webhookTrigger { path } } }`,
      { i: { workflowId, name: 'inbound' } },
      owner.token,
    );
    const { signingSecret, webhookTrigger } = created.data?.createWebhookTrigger ?? {};
    const body = JSON.stringify({ n: 4 });
    const hooked = await api.app.inject({
      method: 'POST',
      url: webhookTrigger.path,
      payload: body,
      headers: {
        'content-type': 'application/json',
        ...signWebhook(signingSecret, 'msg_limited', body),
      },
    });
    expect(hooked.statusCode).toBe(202);
    const hookRun = (hooked.json() as { runId: string }).runId;
    expect(await statusOf(hookRun)).toEqual({ status: 'queued', queuedFor: 'TENANT' });

    const cancelled = await api.gql(
      'mutation($id: ID!) { cancelRun(input: { id: $id }) { run { status } } }',
      { id: runs[0]?.id },
      owner.token,
    );
    expect(cancelled.data?.cancelRun.run.status).toBe('cancelled');
    // One slot freed: the oldest queued run takes it, and the tenant is at its limit again.
    expect(await statusOf(runs[2]?.id as string)).toEqual({ status: 'running', queuedFor: null });
    expect(await statusOf(hookRun)).toEqual({ status: 'queued', queuedFor: 'TENANT' });
  });
});
