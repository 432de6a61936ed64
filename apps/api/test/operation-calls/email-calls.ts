import type { TestApi } from '../api-harness.js';
import type { DomainCalls, MatrixOwner } from './types.js';

/** A workflow and an e-mail trigger on it, made by the owner. */
async function fixture(api: TestApi, owner: MatrixOwner) {
  const wf = await api.gql(
    `mutation { createWorkflow(input: { name: "mail-${crypto.randomUUID()}" }) { workflow { id } } }`,
    {},
    owner.token,
  );
  const emailWorkflowId = wf.data?.createWorkflow.workflow.id as string;
  const trigger = await api.gql(
    `mutation($i: CreateEmailTriggerInput!) { createEmailTrigger(input: $i) { emailTrigger { id } } }`,
    { i: { workflowId: emailWorkflowId } },
    owner.token,
  );
  return {
    emailWorkflowId,
    emailTriggerId: trigger.data?.createEmailTrigger.emailTrigger.id as string,
  };
}

// E-mail triggers are authorized as the WebhookTrigger subject.
const calls: DomainCalls = {
  fixture,
  calls: {
    createEmailTrigger: {
      query: `mutation($i: CreateEmailTriggerInput!) { createEmailTrigger(input: $i) { emailTrigger { address } } }`,
      variables: (f) => ({ i: { workflowId: f.emailWorkflowId } }),
      audit: { action: 'emailTrigger.created' },
    },
    deleteEmailTrigger: {
      query: `mutation($i: DeleteEmailTriggerInput!) { deleteEmailTrigger(input: $i) { deletedId } }`,
      variables: (f) => ({ i: { id: f.emailTriggerId } }),
      record: { subject: 'WebhookTrigger', row: {} },
      audit: { action: 'emailTrigger.deleted' },
    },
    emailTriggers: { query: '{ emailTriggers(first: 5) { nodes { address enabled } } }' },
  },
};

export default calls;
