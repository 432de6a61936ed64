import { describe, expect, it } from 'vitest';
import { startTestApi } from '../test/api-harness.js';

const api = await startTestApi();
const owner = await api.signUp('Runs');
const other = await api.signUp('Elsewhere');

async function publishedWorkflow(token: string, name: string): Promise<string> {
  const wf = await api.gql(
    `mutation($n: String!) { createWorkflow(input: { name: $n }) { workflow { id } } }`,
    { n: name },
    token,
  );
  const workflowId = wf.data?.createWorkflow.workflow.id as string;
  const v = await api.gql(
    `mutation($i: CreateWorkflowVersionInput!) { createWorkflowVersion(input: $i) { workflowVersion { version } } }`,
    { i: { workflowId, definition: { start: 'done', steps: { done: { type: 'succeed' } } } } },
    token,
  );
  expect(v.errors).toBeUndefined();
  return workflowId;
}

const START = `mutation($i: StartRunInput!) { startRun(input: $i) { created run { id status workflowId version idempotencyKey } } }`;

describe('runs through the API', () => {
  it('startRun with an idempotency key returns the same run on repeat, CONFLICT when the input differs', async () => {
    const workflowId = await publishedWorkflow(owner.token, 'Idempotent');
    const first = await api.gql(
      START,
      { i: { workflowId, input: { order: 42 }, idempotencyKey: 'order-42' } },
      owner.token,
    );
    expect(first.data?.startRun).toMatchObject({
      created: true,
      run: { workflowId, version: 1, idempotencyKey: 'order-42' },
    });
    const again = await api.gql(
      START,
      { i: { workflowId, input: { order: 42 }, idempotencyKey: 'order-42' } },
      owner.token,
    );
    expect(again.data?.startRun).toMatchObject({
      created: false,
      run: { id: first.data?.startRun.run.id },
    });
    const clash = await api.gql(
      START,
      { i: { workflowId, input: { order: 43 }, idempotencyKey: 'order-42' } },
      owner.token,
    );
    expect(clash.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const { rows } = await api.db.ownerPool.query(
      'SELECT count(*)::int AS n FROM runs WHERE idempotency_key = $1',
      ['order-42'],
    );
    expect(rows[0].n).toBe(1);
  });

  it('startRuns is all or nothing, and caps the batch', async () => {
    const workflowId = await publishedWorkflow(owner.token, 'Batch');
    const ok = await api.gql(
      `mutation($i: StartRunsInput!) { startRuns(input: $i) { results { created } } }`,
      { i: { runs: Array.from({ length: 50 }, (_, n) => ({ workflowId, input: { n } })) } },
      owner.token,
    );
    expect(ok.data?.startRuns.results).toHaveLength(50);
    const before = (await api.db.ownerPool.query('SELECT count(*)::int AS n FROM runs')).rows[0].n;
    const bad = await api.gql(
      `mutation($i: StartRunsInput!) { startRuns(input: $i) { results { created } } }`,
      { i: { runs: [{ workflowId }, { workflowId: 'not-an-id' }] } },
      owner.token,
    );
    expect(bad.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.runs.1.workflowId',
    });
    const tooMany = await api.gql(
      `mutation($i: StartRunsInput!) { startRuns(input: $i) { results { created } } }`,
      { i: { runs: Array.from({ length: 1001 }, () => ({ workflowId })) } },
      owner.token,
    );
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.runs',
    });
    expect((await api.db.ownerPool.query('SELECT count(*)::int AS n FROM runs')).rows[0].n).toBe(
      before,
    );
  });

  it('cancels a run, lists runs by status and workflow, and shows one with its timeline', async () => {
    const workflowId = await publishedWorkflow(owner.token, 'Cancellable');
    const started = await api.gql(START, { i: { workflowId, input: {} } }, owner.token);
    const runId = started.data?.startRun.run.id as string;
    const cancelled = await api.gql(
      `mutation($id: ID!) { cancelRun(input: { id: $id }) { run { status } } }`,
      { id: runId },
      owner.token,
    );
    expect(cancelled.data?.cancelRun.run.status).toBe('cancelled');
    const listed = await api.gql(
      `query($w: ID!) { runs(workflowId: $w, status: "cancelled") { nodes { id status } } }`,
      { w: workflowId },
      owner.token,
    );
    expect(listed.data?.runs.nodes).toEqual([{ id: runId, status: 'cancelled' }]);
    const one = await api.gql(
      `query($id: ID!) { run(id: $id) { status steps { stepId status } } }`,
      { id: runId },
      owner.token,
    );
    expect(one.data?.run.status).toBe('cancelled');
  });

  it("keeps runs inside their tenant: another tenant's run is NOT_FOUND and never listed", async () => {
    const workflowId = await publishedWorkflow(owner.token, 'Private');
    const started = await api.gql(
      START,
      { i: { workflowId, input: { secret: true } } },
      owner.token,
    );
    const runId = started.data?.startRun.run.id as string;
    for (const query of [
      `query($id: ID!) { run(id: $id) { status } }`,
      `mutation($id: ID!) { cancelRun(input: { id: $id }) { run { status } } }`,
      `mutation($id: ID!) { retryRun(input: { id: $id }) { run { status } } }`,
    ]) {
      const r = await api.gql(query, { id: runId }, other.token);
      expect(r.errors?.[0]?.extensions?.code, query).toBe('NOT_FOUND');
    }
    const foreignStart = await api.gql(START, { i: { workflowId, input: {} } }, other.token);
    expect(foreignStart.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const listed = await api.gql('{ runs(first: 100) { nodes { id } } }', {}, other.token);
    expect(listed.data?.runs.nodes).toEqual([]);
  });
});
