import { ExecutorRegistry } from '@roster/engine';
import { type RunningWorkerPool, runWorkerPool } from '@roster/worker';
import { afterAll, expect, it } from 'vitest';
import { startTestApi } from '../test/api-harness.js';
import { uuidFromGlobalId } from './graphql/global-id.js';

// Run.steps of a run that fanned out: parallel branches and map iterations are typed entries
// (kind branch / iteration) under their parallel or map step, and the step instances inside them
// sit under their branch or iteration with its name or item index.
const api = await startTestApi();
const owner = await api.signUp('Timeline');
const worker: RunningWorkerPool = await runWorkerPool({
  appUrl: api.db.appUrl,
  executors: new ExecutorRegistry(),
  concurrency: 2,
  sweepMs: 100,
  pollIntervalMs: 100,
});
afterAll(() => worker.stop());

const transform = (value: string) => ({ type: 'transform', value, end: true });

it('groups branch and iteration steps under typed branch and iteration entries', async () => {
  const workflowId = await api.publishWorkflow(owner.token, 'fan-out', {
    start: 'fork',
    steps: {
      fork: {
        type: 'parallel',
        branches: {
          left: { start: 'l1', steps: { l1: transform('"L"') } },
          right: { start: 'r1', steps: { r1: transform('"R"') } },
        },
        next: 'each',
      },
      each: {
        type: 'map',
        items: 'input.items[]',
        iterator: { start: 'post', steps: { post: transform('item') } },
        end: true,
      },
    },
  });
  const started = await api.gql(
    'mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }',
    { i: { workflowId, input: { items: ['a', 'b'] } } },
    owner.token,
  );
  const id = started.data?.startRun.run.id as string;
  const runId = uuidFromGlobalId(id, 'Run', 'id');
  for (let i = 0; i < 200; i++) {
    const { rows } = await api.db.ownerPool.query('SELECT status FROM runs WHERE id = $1', [runId]);
    if (rows[0]?.status === 'succeeded') break;
    await new Promise((r) => setTimeout(r, 50));
  }

  const shown = await api.gql(
    `query($id: ID!) { run(id: $id) { status output
       steps { stepId kind definitionStepId parentId branch iteration status output } } }`,
    { id },
    owner.token,
  );
  expect(shown.errors).toBeUndefined();
  expect(shown.data?.run).toMatchObject({ status: 'succeeded', output: ['a', 'b'] });
  type Entry = { stepId: string };
  const steps = [...((shown.data?.run.steps ?? []) as Entry[])].sort((a, b) =>
    a.stepId.localeCompare(b.stepId),
  );
  const entry = (
    stepId: string,
    kind: string,
    definitionStepId: string,
    parentId: string | null,
    branch: string | null,
    iteration: number | null,
    output: unknown,
  ) => ({
    stepId,
    kind,
    definitionStepId,
    parentId,
    branch,
    iteration,
    status: 'succeeded',
    output,
  });
  expect(steps).toEqual(
    [
      entry('each', 'step', 'each', null, null, null, ['a', 'b']),
      entry('each#0', 'iteration', 'each', 'each', null, 0, 'a'),
      entry('each#1', 'iteration', 'each', 'each', null, 1, 'b'),
      entry('fork', 'step', 'fork', null, null, null, { left: 'L', right: 'R' }),
      entry('fork#left', 'branch', 'fork', 'fork', 'left', null, 'L'),
      entry('fork#right', 'branch', 'fork', 'fork', 'right', null, 'R'),
      entry('l1', 'step', 'l1', 'fork#left', 'left', null, 'L'),
      entry('post@0', 'step', 'post', 'each#0', null, 0, 'a'),
      entry('post@1', 'step', 'post', 'each#1', null, 1, 'b'),
      entry('r1', 'step', 'r1', 'fork#right', 'right', null, 'R'),
    ].sort((a, b) => a.stepId.localeCompare(b.stepId)),
  );
});
