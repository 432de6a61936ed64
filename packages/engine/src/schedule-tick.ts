import { type Pool, withTenant } from '@roster/db';
import type { EngineOptions } from './engine-options.js';
import { nextFireAt } from './schedules.js';
import { startRunsInTransaction } from './start-run.js';

/** The graphile-worker task that fires due schedules. */
export const SCHEDULES_TICK_TASK = 'roster_schedules_tick';

/**
 * graphile-worker crontab line: one tick job a minute across ALL workers (graphile-worker's
 * known_crontabs row makes each minute's job exactly once, however many workers run the cron).
 */
export const SCHEDULES_CRONTAB = `* * * * * ${SCHEDULES_TICK_TASK} ?max=1&id=${SCHEDULES_TICK_TASK}`;

export interface TickResult {
  /** Runs started (one per schedule occurrence fired now). */
  fired: number;
  /** Schedules whose occurrence could not start a run (the workflow has no version, ...). */
  failed: Array<{ tenantId: string; scheduleId: string; message: string }>;
}

/**
 * Fires every enabled schedule whose next occurrence is at or before `now`, exactly once per
 * (schedule, occurrence): the schedule_fires primary key decides under concurrent ticks, and the
 * run starts in the same transaction as its fire row. Occurrences missed while no worker ran
 * collapse into one fire; the next occurrence is computed from `now`.
 */
export async function tickSchedules(
  pool: Pool,
  now: Date = new Date(),
  options: EngineOptions & { limit?: number } = {},
): Promise<TickResult> {
  const { rows } = await pool.query<{ tenant_id: string; schedule_id: string }>(
    'SELECT tenant_id, schedule_id FROM roster_engine_due_schedules($1, $2)',
    [now, options.limit ?? 1000],
  );
  const byTenant = new Map<string, string[]>();
  for (const row of rows) {
    byTenant.set(row.tenant_id, [...(byTenant.get(row.tenant_id) ?? []), row.schedule_id]);
  }
  const result: TickResult = { fired: 0, failed: [] };
  for (const [tenantId, scheduleIds] of byTenant) {
    await withTenant(pool, tenantId, async ({ client }) => {
      // Locked rows are being fired by another tick right now; the row lock plus the fire's
      // primary key keep that to one.
      const { rows: due } = await client.query<{
        id: string;
        workflow_id: string;
        cron: string;
        timezone: string;
        input: Record<string, unknown>;
        next_fire_at: Date;
      }>(
        `SELECT id, workflow_id, cron, timezone, input, next_fire_at FROM schedules
          WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND enabled AND next_fire_at <= $3
          FOR UPDATE SKIP LOCKED`,
        [tenantId, scheduleIds, now],
      );
      for (const schedule of due) {
        const tickAt = schedule.next_fire_at;
        const later = new Date(Math.max(now.getTime(), tickAt.getTime()));
        let next: Date | null;
        try {
          next = nextFireAt(schedule.cron, schedule.timezone, later);
        } catch {
          next = null; // Stored before a parser change made it invalid: stop rather than spin.
        }
        await client.query('SAVEPOINT roster_fire');
        try {
          const fire = await client.query(
            `INSERT INTO schedule_fires (tenant_id, schedule_id, tick_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING RETURNING tick_at`,
            [tenantId, schedule.id, tickAt],
          );
          if (fire.rowCount === 1) {
            const [run] = await startRunsInTransaction(
              client,
              tenantId,
              [
                {
                  workflowId: schedule.workflow_id,
                  input: schedule.input,
                  startedBy: { kind: 'schedule', id: schedule.id },
                },
              ],
              options,
            );
            await client.query(
              'UPDATE schedule_fires SET run_id = $4 WHERE tenant_id = $1 AND schedule_id = $2 AND tick_at = $3',
              [tenantId, schedule.id, tickAt, run?.runId],
            );
            result.fired++;
          }
          await client.query('RELEASE SAVEPOINT roster_fire');
        } catch (err) {
          // This occurrence is skipped (not retried every minute); the others still fire.
          await client.query('ROLLBACK TO SAVEPOINT roster_fire');
          result.failed.push({
            tenantId,
            scheduleId: schedule.id,
            message: err instanceof Error ? err.message : String(err),
          });
        }
        await client.query(
          `UPDATE schedules SET last_fired_at = $3, next_fire_at = $4, enabled = enabled AND $4::timestamptz IS NOT NULL,
                  updated_at = now()
            WHERE tenant_id = $1 AND id = $2`,
          [tenantId, schedule.id, tickAt, next],
        );
      }
    });
  }
  return result;
}
