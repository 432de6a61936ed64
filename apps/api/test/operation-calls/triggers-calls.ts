import type { TestApi } from '../api-harness.js';
import type { DomainCalls, MatrixOwner } from './types.js';

/** A webhook trigger and a schedule on the core fixture's kind of workflow, made by the owner. */
async function fixture(api: TestApi, owner: MatrixOwner) {
  const wf = await api.gql(
    `mutation { createWorkflow(input: { name: "trig-${crypto.randomUUID()}" }) { workflow { id } } }`,
    {},
    owner.token,
  );
  const triggersWorkflowId = wf.data?.createWorkflow.workflow.id as string;
  const trigger = await api.gql(
    `mutation($i: CreateWebhookTriggerInput!) { createWebhookTrigger(input: $i) { webhookTrigger { id } } }`,
    { i: { workflowId: triggersWorkflowId, name: `hook-${crypto.randomUUID()}` } },
    owner.token,
  );
  const schedule = await api.gql(
    `mutation($i: CreateScheduleInput!) { createSchedule(input: $i) { schedule { id } } }`,
    {
      i: { workflowId: triggersWorkflowId, name: `cron-${crypto.randomUUID()}`, cron: '0 3 * * *' },
    },
    owner.token,
  );
  return {
    triggersWorkflowId,
    webhookTriggerId: trigger.data?.createWebhookTrigger.webhookTrigger.id as string,
    scheduleId: schedule.data?.createSchedule.schedule.id as string,
  };
}

const calls: DomainCalls = {
  fixture,
  calls: {
    createWebhookTrigger: {
      query: `mutation($i: CreateWebhookTriggerInput!) { createWebhookTrigger(input: $i) { signingSecret } }`,
      variables: (f) => ({
        i: { workflowId: f.triggersWorkflowId, name: `h-${crypto.randomUUID()}` },
      }),
      audit: { action: 'webhookTrigger.created' },
    },
    deleteWebhookTrigger: {
      query: `mutation($i: DeleteWebhookTriggerInput!) { deleteWebhookTrigger(input: $i) { deletedId } }`,
      variables: (f) => ({ i: { id: f.webhookTriggerId } }),
      record: { subject: 'WebhookTrigger', row: {} },
      audit: { action: 'webhookTrigger.deleted' },
    },
    webhookTriggers: { query: '{ webhookTriggers(first: 5) { nodes { name path } } }' },
    createSchedule: {
      query: `mutation($i: CreateScheduleInput!) { createSchedule(input: $i) { schedule { nextFireAt } } }`,
      variables: (f) => ({
        i: {
          workflowId: f.triggersWorkflowId,
          name: `s-${crypto.randomUUID()}`,
          cron: '*/5 * * * *',
        },
      }),
      audit: { action: 'schedule.created' },
    },
    updateSchedule: {
      query: `mutation($i: UpdateScheduleInput!) { updateSchedule(input: $i) { schedule { enabled } } }`,
      variables: (f) => ({ i: { id: f.scheduleId, enabled: false } }),
      record: { subject: 'Schedule', row: {} },
      audit: { action: 'schedule.updated' },
    },
    deleteSchedule: {
      query: `mutation($i: DeleteScheduleInput!) { deleteSchedule(input: $i) { deletedId } }`,
      variables: (f) => ({ i: { id: f.scheduleId } }),
      record: { subject: 'Schedule', row: {} },
      audit: { action: 'schedule.deleted' },
    },
    schedules: { query: '{ schedules(first: 5) { nodes { cron timezone } } }' },
    setWorkflowCallback: {
      query: `mutation($i: SetWorkflowCallbackInput!) { setWorkflowCallback(input: $i) { signingSecret callback { url } } }`,
      variables: (f) => ({
        i: { workflowId: f.triggersWorkflowId, url: 'https://hooks.example.com/roster' },
      }),
      record: { subject: 'Workflow', row: {} },
      audit: { action: 'workflowCallback.set' },
    },
    callbackDeliveries: {
      query: `query($id: ID!) { callbackDeliveries(runId: $id) { status } }`,
      variables: (f) => ({ id: f.runId }),
    },
  },
};

export default calls;
