import { describe, expect, it } from 'vitest';
import { startTestApi } from '../test/api-harness.js';

const api = await startTestApi();
const owner = await api.signUp('Runs');
const other = await api.signUp('Elsewhere');

const START = `mutation($i: StartRunInput!) { startRun(input: $i) { created run { id status workflowId version idempotencyKey } } }`;

describe('runs through the API', () => {
  it('startRun with an idempotency key returns the same run on repeat, CONFLICT when the input differs', async () => {
    const workflowId = await api.publishWorkflow(owner.token, 'Idempotent');
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
    const workflowId = await api.publishWorkflow(owner.token, 'Batch');
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

  it('says what a queued run waits for, and startRuns returns each run as stored', async () => {
    const workflowId = await api.publishWorkflow(owner.token, 'Per customer', {
      start: 'done',
      concurrency: { key: 'input.customer', maxRunsPerKey: 1 },
      steps: { done: { type: 'succeed' } },
    });
    const before = Date.now();
    const started = await api.gql(
      `mutation($i: StartRunsInput!) { startRuns(input: $i) { results { created run {
         id status queuedFor concurrencyKey input deadlineAt startedBy { kind } } } } }`,
      {
        i: {
          runs: ['acme', 'acme', 'globex'].map((customer) => ({
            workflowId,
            input: { customer },
          })),
        },
      },
      owner.token,
    );
    expect(started.errors).toBeUndefined();
    const runs = started.data?.startRuns.results.map((r: { run: unknown }) => r.run);
    // acme's second run waits for acme's key; globex's starts.
    expect(runs).toMatchObject([
      { status: 'running', queuedFor: null, concurrencyKey: 'acme', input: { customer: 'acme' } },
      { status: 'queued', queuedFor: 'KEY', concurrencyKey: 'acme', input: { customer: 'acme' } },
      { status: 'running', queuedFor: null, concurrencyKey: 'globex' },
    ]);
    for (const run of runs) {
      expect(run.startedBy).toEqual({ kind: 'member' });
      expect(new Date(run.deadlineAt).getTime()).toBeGreaterThan(before);
    }
    const waiting = runs[1].id as string;
    const one = await api.gql(
      `query($id: ID!) { run(id: $id) { queuedFor concurrencyKey } }`,
      { id: waiting },
      owner.token,
    );
    expect(one.data?.run).toEqual({ queuedFor: 'KEY', concurrencyKey: 'acme' });
    const listed = await api.gql(
      `query($w: ID!) { runs(workflowId: $w, status: "queued") { nodes { id queuedFor } } }`,
      { w: workflowId },
      owner.token,
    );
    expect(listed.data?.runs.nodes).toEqual([{ id: waiting, queuedFor: 'KEY' }]);
  });

  it('cancels a run, lists runs by status and workflow, and shows one with its timeline', async () => {
    const workflowId = await api.publishWorkflow(owner.token, 'Cancellable');
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
    const workflowId = await api.publishWorkflow(owner.token, 'Private');
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

  it('records who started a run; a builder cancels the runs they started (by hand or by their key) and no one else', async () => {
    const builder = await api.addMember(owner.token, 'builder');
    const colleague = await api.addMember(owner.token, 'builder');
    const workflowId = await api.publishWorkflow(owner.token, 'Owned runs');
    const WHO = `query($id: ID!) { run(id: $id) { status startedBy { kind id member { id displayName } } } }`;
    const CANCEL = `mutation($id: ID!) { cancelRun(input: { id: $id }) { run { status } } }`;
    const start = async (token: string) =>
      (await api.gql(START, { i: { workflowId, input: {} } }, token)).data?.startRun.run
        .id as string;

    const mine = await start(builder.token);
    const who = await api.gql(WHO, { id: mine }, owner.token);
    const memberId = Buffer.from(`Member:${builder.userId}`).toString('base64url');
    expect(who.data?.run.startedBy).toMatchObject({ kind: 'member', id: memberId });
    expect(who.data?.run.startedBy.member.id).toBe(memberId);

    const theirs = await start(colleague.token);
    const ownersRun = await start(owner.token);
    for (const runId of [theirs, ownersRun]) {
      const denied = await api.gql(CANCEL, { id: runId }, builder.token);
      expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect((await api.gql(WHO, { id: runId }, owner.token)).data?.run.status).not.toBe(
        'cancelled',
      );
    }
    const cancelled = await api.gql(CANCEL, { id: mine }, builder.token);
    expect(cancelled.errors).toBeUndefined();
    expect(cancelled.data?.cancelRun.run.status).toBe('cancelled');

    // A run started through the builder's API key is the builder's: it names the key, and the
    // builder may cancel it.
    const key = await api.gql(
      `mutation { createApiKey(input: { name: "ci", scopes: ["runs:write"] }) { token apiKey { id } } }`,
      {},
      builder.token,
    );
    const viaKey = await start(key.data?.createApiKey.token as string);
    const byKey = await api.gql(WHO, { id: viaKey }, owner.token);
    expect(byKey.data?.run.startedBy).toMatchObject({
      kind: 'apiKey',
      id: key.data?.createApiKey.apiKey.id,
      member: { id: memberId },
    });
    expect(
      (await api.gql(CANCEL, { id: viaKey }, colleague.token)).errors?.[0]?.extensions?.code,
    ).toBe('FORBIDDEN');
    expect((await api.gql(CANCEL, { id: viaKey }, builder.token)).data?.cancelRun.run.status).toBe(
      'cancelled',
    );
    // An operator's cancel right has no ownership condition.
    const operator = await api.addMember(owner.token, 'operator');
    expect((await api.gql(CANCEL, { id: theirs }, operator.token)).data?.cancelRun.run.status).toBe(
      'cancelled',
    );
  });
});
