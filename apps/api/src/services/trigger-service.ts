import { type SubjectName, subjectRecord } from '@roster/authz';
import type { Pool } from '@roster/db';
import {
  createSchedule,
  createWebhookTrigger,
  deleteSchedule,
  deleteWebhookTrigger,
  getSchedule,
  getWebhookTrigger,
  removeWorkflowCallback,
  type ScheduleView,
  setWorkflowCallback,
  type UpdateScheduleInput,
  updateSchedule,
  type WorkflowCallbackView,
} from '@roster/engine';
import { notFound } from '../errors.js';
import { asAuditCaller } from './audit-actor.js';
import type { ServiceActor } from './service-actor.js';
import { checkName } from './text-input.js';

export type TriggerActor = ServiceActor;

/** NOT_FOUND before FORBIDDEN, then the ability on THAT row (ownership conditions). */
function assertOn(
  actor: TriggerActor,
  action: 'update' | 'delete',
  subject: SubjectName,
  row: { createdBy: string | null } | null,
  what: string,
): void {
  if (!row) throw notFound(what);
  actor.ability.assert(
    action,
    subjectRecord(subject, { ...row, tenantId: actor.tenantId, createdBy: row.createdBy }),
  );
}

export async function createTrigger(
  appPool: Pool,
  actor: TriggerActor,
  input: { workflowId: string; name: string },
) {
  const name = checkName(input.name, 'input.name');
  return asAuditCaller(actor.audit, () =>
    createWebhookTrigger(appPool, actor.tenantId, {
      workflowId: input.workflowId,
      name,
      createdBy: actor.userId,
    }),
  );
}

export async function deleteTrigger(appPool: Pool, actor: TriggerActor, triggerId: string) {
  const row = await getWebhookTrigger(appPool, actor.tenantId, triggerId);
  assertOn(actor, 'delete', 'WebhookTrigger', row, 'That webhook trigger');
  await asAuditCaller(actor.audit, () => deleteWebhookTrigger(appPool, actor.tenantId, triggerId));
}

export async function addSchedule(
  appPool: Pool,
  actor: TriggerActor,
  input: {
    workflowId: string;
    name: string;
    cron: string;
    timezone?: string | null;
    input?: Record<string, unknown> | null;
    enabled?: boolean | null;
  },
): Promise<ScheduleView> {
  const name = checkName(input.name, 'input.name');
  return asAuditCaller(actor.audit, () =>
    createSchedule(appPool, actor.tenantId, {
      workflowId: input.workflowId,
      name,
      cron: input.cron,
      ...(input.timezone ? { timezone: input.timezone } : {}),
      ...(input.input ? { input: input.input } : {}),
      ...(input.enabled !== undefined && input.enabled !== null ? { enabled: input.enabled } : {}),
      createdBy: actor.userId,
    }),
  );
}

export async function changeSchedule(
  appPool: Pool,
  actor: TriggerActor,
  scheduleId: string,
  patch: UpdateScheduleInput,
): Promise<ScheduleView> {
  const row = await getSchedule(appPool, actor.tenantId, scheduleId);
  assertOn(actor, 'update', 'Schedule', row, 'That schedule');
  const checked = {
    ...patch,
    ...(patch.name !== undefined ? { name: checkName(patch.name, 'input.name') } : {}),
  };
  return asAuditCaller(actor.audit, () =>
    updateSchedule(appPool, actor.tenantId, scheduleId, checked),
  );
}

export async function removeSchedule(appPool: Pool, actor: TriggerActor, scheduleId: string) {
  const row = await getSchedule(appPool, actor.tenantId, scheduleId);
  assertOn(actor, 'delete', 'Schedule', row, 'That schedule');
  await asAuditCaller(actor.audit, () => deleteSchedule(appPool, actor.tenantId, scheduleId));
}

/**
 * Sets (or, with a null url, removes) the workflow's callback. Changing where a workflow reports
 * is changing the workflow: the caller needs `update` on that workflow row.
 */
export async function setCallback(
  appPool: Pool,
  actor: TriggerActor,
  workflow: { createdBy: string | null } | null,
  input: { workflowId: string; url: string | null; rotateSecret: boolean },
): Promise<{ callback: WorkflowCallbackView | null; secret: string | null }> {
  assertOn(actor, 'update', 'Workflow', workflow, 'That workflow');
  if (input.url === null) {
    await asAuditCaller(actor.audit, () =>
      removeWorkflowCallback(appPool, actor.tenantId, input.workflowId),
    );
    return { callback: null, secret: null };
  }
  const url = input.url;
  return asAuditCaller(actor.audit, () =>
    setWorkflowCallback(appPool, actor.tenantId, {
      workflowId: input.workflowId,
      url,
      rotateSecret: input.rotateSecret,
      createdBy: actor.userId,
    }),
  );
}
