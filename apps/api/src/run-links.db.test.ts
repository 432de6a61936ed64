import { expect, it } from 'vitest';
import { startTestApi } from '../test/api-harness.js';
import { uuidFromGlobalId } from './graphql/global-id.js';

const api = await startTestApi();
const owner = await api.signUp('Links');

it('Run shows parentRun, parentStep and childRuns of callWorkflow runs', async () => {
  const workflowId = await api.publishWorkflow(owner.token, 'Linked');
  const start = async () => {
    const r = await api.gql(
      `mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`,
      { i: { workflowId } },
      owner.token,
    );
    return r.data?.startRun.run.id as string;
  };
  const parent = await start();
  const child = await start();
  // The engine links a child when its callWorkflow step starts it (flow-steps.db.test.ts).
  await api.db.ownerPool.query(
    'UPDATE runs SET parent_run_id = $1, parent_step = $2 WHERE id = $3',
    [uuidFromGlobalId(parent, 'Run', 'id'), 'call@2', uuidFromGlobalId(child, 'Run', 'id')],
  );
  const query = `query($id: ID!) { run(id: $id) { id parentStep parentRun { id } childRuns { id parentRun { id } } } }`;
  const top = await api.gql(query, { id: parent }, owner.token);
  expect(top.errors).toBeUndefined();
  expect(top.data?.run).toEqual({
    id: parent,
    parentStep: null,
    parentRun: null,
    childRuns: [{ id: child, parentRun: { id: parent } }],
  });
  const below = await api.gql(query, { id: child }, owner.token);
  expect(below.data?.run).toMatchObject({
    parentStep: 'call@2',
    parentRun: { id: parent },
    childRuns: [],
  });
});
