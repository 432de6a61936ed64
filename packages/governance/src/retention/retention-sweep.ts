import { type Pool, withTenant } from '@roster/db';
import { subtractIsoDuration } from '../policy/duration.js';
import type { RetentionDataClass, RetentionPolicy } from '../policy/schema.js';

// Deletes data past its retention, per tenant and data class, in batches (each its own short
// transaction under the tenant's RLS context). Runs, step runs and review tasks keep their rows
// (ids, status, times: what reports and the audit trail point at) and lose their payloads; logs
// are deleted. Audit events are never touched: the chain is append-only and hashes them (personal
// values in them are sealed, so erasure, not retention, is what makes them unreadable).

/** Rows changed per statement. Default 500. */
export const DEFAULT_RETENTION_BATCH = 500;

interface Purge {
  dataClass: RetentionDataClass;
  /** $1 tenant, $2 cutoff, $3 batch size; returns one row per row changed. */
  sql: string;
  /** Skipped when this table is absent or not deletable (another feature's, e.g. review comments). */
  table?: string;
}

const ENDED = `('succeeded', 'failed', 'cancelled')`;

const PURGES: readonly Purge[] = [
  {
    dataClass: 'runPayloads',
    sql: `UPDATE runs r SET input = '{}'::jsonb, output = NULL, error = NULL
           WHERE (r.tenant_id, r.id) IN (
             SELECT tenant_id, id FROM runs WHERE tenant_id = $1 AND status IN ${ENDED}
                AND finished_at < $2
                AND (input <> '{}'::jsonb OR output IS NOT NULL OR error IS NOT NULL)
              LIMIT $3)
          RETURNING 1`,
  },
  {
    dataClass: 'runPayloads',
    sql: `UPDATE review_tasks t SET data = '{}'::jsonb, result = NULL
           WHERE (t.tenant_id, t.id) IN (
             SELECT rt.tenant_id, rt.id FROM review_tasks rt
               JOIN runs r ON r.tenant_id = rt.tenant_id AND r.id = rt.run_id
              WHERE rt.tenant_id = $1 AND r.status IN ${ENDED} AND r.finished_at < $2
                AND rt.status <> 'open' AND (rt.data <> '{}'::jsonb OR rt.result IS NOT NULL)
              LIMIT $3)
          RETURNING 1`,
  },
  {
    dataClass: 'stepOutputs',
    sql: `UPDATE step_runs s SET output = NULL, error = NULL, attempts = '[]'::jsonb
           WHERE (s.tenant_id, s.run_id, s.step_id) IN (
             SELECT sr.tenant_id, sr.run_id, sr.step_id FROM step_runs sr
               JOIN runs r ON r.tenant_id = sr.tenant_id AND r.id = sr.run_id
              WHERE sr.tenant_id = $1 AND r.status IN ${ENDED} AND r.finished_at < $2
                AND (sr.output IS NOT NULL OR sr.error IS NOT NULL OR sr.attempts <> '[]'::jsonb)
              LIMIT $3)
          RETURNING 1`,
  },
  {
    dataClass: 'decisionInputs',
    sql: `DELETE FROM inference_requests i WHERE (i.tenant_id, i.id) IN (
             SELECT tenant_id, id FROM inference_requests WHERE tenant_id = $1
                AND status IN ('done', 'failed') AND coalesce(completed_at, created_at) < $2
              LIMIT $3)
          RETURNING 1`,
  },
  {
    dataClass: 'webhookDeliveries',
    sql: `DELETE FROM webhook_deliveries_seen w
           WHERE (w.tenant_id, w.trigger_id, w.webhook_id) IN (
             SELECT tenant_id, trigger_id, webhook_id FROM webhook_deliveries_seen
              WHERE tenant_id = $1 AND received_at < $2 LIMIT $3)
          RETURNING 1`,
  },
  {
    dataClass: 'webhookDeliveries',
    sql: `DELETE FROM callback_deliveries c WHERE (c.tenant_id, c.id) IN (
             SELECT tenant_id, id FROM callback_deliveries WHERE tenant_id = $1
                AND status <> 'pending' AND created_at < $2 LIMIT $3)
          RETURNING 1`,
  },
  {
    dataClass: 'reviewComments',
    table: 'review_comments',
    sql: `DELETE FROM review_comments c WHERE (c.tenant_id, c.id) IN (
             SELECT tenant_id, id FROM review_comments WHERE tenant_id = $1 AND created_at < $2
              LIMIT $3)
          RETURNING 1`,
  },
];

export type RetentionCounts = Record<RetentionDataClass, number>;

export interface TenantSweep {
  tenantId: string;
  /** Rows deleted or emptied, per data class. */
  counts: RetentionCounts;
}

export interface RetentionSweepOptions {
  /** The sweep's clock. Default now. */
  now?: Date;
  /** The tenant's retention periods (e.g. from effectiveGovernancePolicy). */
  retentionFor: (tenantId: string) => Promise<RetentionPolicy>;
  /** Default DEFAULT_RETENTION_BATCH. */
  batchSize?: number;
  /** Only these tenants. Default every tenant. */
  tenantIds?: readonly string[];
}

const zeroCounts = (): RetentionCounts => ({
  runPayloads: 0,
  stepOutputs: 0,
  decisionInputs: 0,
  reviewComments: 0,
  webhookDeliveries: 0,
});

/** Sweeps one tenant; safe to re-run (a row already emptied or deleted is not matched again). */
export async function sweepTenantRetention(
  pool: Pool,
  tenantId: string,
  retention: RetentionPolicy,
  options: { now?: Date; batchSize?: number } = {},
): Promise<TenantSweep> {
  const now = options.now ?? new Date();
  const batch = options.batchSize ?? DEFAULT_RETENTION_BATCH;
  const counts = zeroCounts();
  const present = await withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<{ name: string }>(
      `SELECT t AS name FROM unnest($1::text[]) t
        WHERE to_regclass(t) IS NOT NULL AND has_table_privilege(t, 'DELETE')`,
      [PURGES.flatMap((p) => (p.table ? [p.table] : []))],
    );
    return new Set(rows.map((r) => r.name));
  });
  for (const purge of PURGES) {
    const period = retention[purge.dataClass];
    if (period === 'forever' || (purge.table && !present.has(purge.table))) continue;
    const cutoff = subtractIsoDuration(now, period);
    for (;;) {
      const changed = await withTenant(pool, tenantId, async ({ client }) => {
        const result = await client.query(purge.sql, [tenantId, cutoff, batch]);
        return result.rows.length;
      });
      counts[purge.dataClass] += changed;
      if (changed < batch) break;
    }
  }
  if (Object.values(counts).some((n) => n > 0)) {
    // The sweep is itself audited (counts only): what was removed, when, under which policy.
    await withTenant(pool, tenantId, ({ client }) =>
      client.query(
        `INSERT INTO audit_events (tenant_id, kind, data, subject_type, subject_id)
         VALUES ($1, 'retention.swept', $2, 'Tenant', $3)`,
        [tenantId, JSON.stringify({ at: now.toISOString(), counts, retention }), tenantId],
      ),
    );
  }
  return { tenantId, counts };
}

/** Sweeps every tenant (or `tenantIds`) in turn. */
export async function sweepRetention(
  pool: Pool,
  options: RetentionSweepOptions,
): Promise<TenantSweep[]> {
  const tenants =
    options.tenantIds ??
    (
      await pool.query<{ tenant_id: string }>('SELECT tenant_id FROM roster_retention_tenants()')
    ).rows.map((r) => r.tenant_id);
  const results: TenantSweep[] = [];
  for (const tenantId of tenants) {
    const retention = await options.retentionFor(tenantId);
    results.push(
      await sweepTenantRetention(pool, tenantId, retention, {
        ...(options.now ? { now: options.now } : {}),
        ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      }),
    );
  }
  return results;
}
