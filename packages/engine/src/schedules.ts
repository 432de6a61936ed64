import { type Pool, type PoolClient, withTenant } from '@roster/db';
import { CronExpressionParser } from 'cron-parser';
import { recordChange } from './change-events.js';
import { EngineError } from './errors.js';

export interface ScheduleView {
  id: string;
  workflowId: string;
  name: string;
  cron: string;
  timezone: string;
  input: Record<string, unknown>;
  enabled: boolean;
  nextFireAt: Date | null;
  lastFiredAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const SCHEDULE_COLUMNS = `id, workflow_id AS "workflowId", name, cron, timezone, input, enabled,
  next_fire_at AS "nextFireAt", last_fired_at AS "lastFiredAt", created_by AS "createdBy",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

function checkTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw new EngineError(
      'BAD_USER_INPUT',
      `"${timezone}" is not a time zone: use an IANA name such as "UTC" or "Europe/Berlin".`,
      { field: 'input.timezone' },
    );
  }
}

/**
 * The first occurrence of `cron` in `timezone` strictly after `after`. Five fields (minute hour
 * day-of-month month day-of-week) or an alias such as `@hourly`: ticks are once a minute, so a
 * seconds field is refused.
 */
export function nextFireAt(cron: string, timezone: string, after: Date): Date {
  const expression = cron.trim();
  if (!expression.startsWith('@') && expression.split(/\s+/).length !== 5) {
    throw new EngineError(
      'BAD_USER_INPUT',
      `"${cron}" is not a 5-field cron expression (minute hour day-of-month month day-of-week), e.g. "*/15 * * * *".`,
      { field: 'input.cron' },
    );
  }
  checkTimezone(timezone);
  try {
    return CronExpressionParser.parse(expression, { currentDate: after, tz: timezone })
      .next()
      .toDate();
  } catch (cause) {
    throw new EngineError(
      'BAD_USER_INPUT',
      `"${cron}" is not a valid cron expression: ${cause instanceof Error ? cause.message : String(cause)}.`,
      { field: 'input.cron' },
      { cause },
    );
  }
}

export interface CreateScheduleInput {
  workflowId: string;
  name: string;
  cron: string;
  /** IANA time zone the cron expression is read in. Default UTC. */
  timezone?: string;
  /** The input of every run it starts. Default {}. */
  input?: Record<string, unknown>;
  /** Default true. */
  enabled?: boolean;
  createdBy: string | null;
}

function nameTaken(err: unknown, name: string): never {
  if ((err as { constraint?: string }).constraint === 'schedules_tenant_name_key') {
    throw new EngineError(
      'CONFLICT',
      `A schedule named ${JSON.stringify(name)} exists already: pick another name.`,
      { field: 'input.name' },
    );
  }
  throw err;
}

export async function createSchedule(
  pool: Pool,
  tenantId: string,
  input: CreateScheduleInput,
  now: Date = new Date(),
): Promise<ScheduleView> {
  const timezone = input.timezone ?? 'UTC';
  const enabled = input.enabled ?? true;
  const next = nextFireAt(input.cron, timezone, now);
  let row: ScheduleView | undefined;
  try {
    row = await withTenant(pool, tenantId, async ({ client }) => {
      const { rows } = await client.query<ScheduleView>(
        `INSERT INTO schedules (tenant_id, workflow_id, name, cron, timezone, input, enabled, next_fire_at, created_by)
         SELECT $1, w.id, $3, $4, $5, $6, $7, $8, $9 FROM workflows w WHERE w.tenant_id = $1 AND w.id = $2
         RETURNING ${SCHEDULE_COLUMNS}`,
        [
          tenantId,
          input.workflowId,
          input.name,
          input.cron.trim(),
          timezone,
          input.input ?? {},
          enabled,
          enabled ? next : null,
          input.createdBy,
        ],
      );
      const created = rows[0];
      if (created) {
        await recordChange(client, tenantId, {
          action: 'schedule.created',
          subject: { type: 'schedule', id: created.id },
          after: scheduleState(created),
        });
      }
      return created;
    });
  } catch (err) {
    nameTaken(err, input.name);
  }
  if (!row) {
    throw new EngineError(
      'NOT_FOUND',
      `Workflow ${input.workflowId} does not exist in this tenant.`,
      {
        workflowId: input.workflowId,
      },
    );
  }
  return row;
}

export async function getSchedule(
  pool: Pool,
  tenantId: string,
  scheduleId: string,
): Promise<ScheduleView | null> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<ScheduleView>(
      `SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE tenant_id = $1 AND id = $2`,
      [tenantId, scheduleId],
    );
    return rows[0] ?? null;
  });
}

export interface UpdateScheduleInput {
  name?: string;
  cron?: string;
  timezone?: string;
  input?: Record<string, unknown>;
  enabled?: boolean;
}

/** Changes a schedule; the next fire time is computed again from now. NOT_FOUND when absent. */
export async function updateSchedule(
  pool: Pool,
  tenantId: string,
  scheduleId: string,
  patch: UpdateScheduleInput,
  now: Date = new Date(),
): Promise<ScheduleView> {
  try {
    return await withTenant(pool, tenantId, async ({ client }) => {
      const current = await lockSchedule(client, tenantId, scheduleId);
      const cron = patch.cron?.trim() ?? current.cron;
      const timezone = patch.timezone ?? current.timezone;
      const enabled = patch.enabled ?? current.enabled;
      const next = nextFireAt(cron, timezone, now);
      const { rows } = await client.query<ScheduleView>(
        `UPDATE schedules SET name = $3, cron = $4, timezone = $5, input = $6, enabled = $7,
                next_fire_at = $8, updated_at = now()
          WHERE tenant_id = $1 AND id = $2 RETURNING ${SCHEDULE_COLUMNS}`,
        [
          tenantId,
          scheduleId,
          patch.name ?? current.name,
          cron,
          timezone,
          patch.input ?? current.input,
          enabled,
          enabled ? next : null,
        ],
      );
      const updated = rows[0] as ScheduleView;
      await recordChange(client, tenantId, {
        action: 'schedule.updated',
        subject: { type: 'schedule', id: scheduleId },
        before: scheduleState(current),
        after: scheduleState(updated),
      });
      return updated;
    });
  } catch (err) {
    return nameTaken(err, patch.name ?? '');
  }
}

export async function deleteSchedule(
  pool: Pool,
  tenantId: string,
  scheduleId: string,
): Promise<boolean> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<ScheduleView>(
      `DELETE FROM schedules WHERE tenant_id = $1 AND id = $2 RETURNING ${SCHEDULE_COLUMNS}`,
      [tenantId, scheduleId],
    );
    const deleted = rows[0];
    if (deleted) {
      await recordChange(client, tenantId, {
        action: 'schedule.deleted',
        subject: { type: 'schedule', id: scheduleId },
        before: scheduleState(deleted),
      });
    }
    return deleted !== undefined;
  });
}

/** What a schedule's audit event shows; the runs' input is left out (it may carry anything). */
function scheduleState(row: ScheduleView): Record<string, unknown> {
  return {
    workflowId: row.workflowId,
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    enabled: row.enabled,
  };
}

async function lockSchedule(
  client: PoolClient,
  tenantId: string,
  scheduleId: string,
): Promise<ScheduleView> {
  const { rows } = await client.query<ScheduleView>(
    `SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
    [tenantId, scheduleId],
  );
  const row = rows[0];
  if (!row) {
    throw new EngineError('NOT_FOUND', `Schedule ${scheduleId} does not exist in this tenant.`, {
      scheduleId,
    });
  }
  return row;
}
