import type { KeyObject } from 'node:crypto';
import { type Pool, withTenant } from '@roster/db';
import { AuditError } from '../errors.js';
import type { AuditEvent } from '../event.js';
import { writeExport } from '../export-writer.js';
import { digestsBetween, lastDigest, type SignDigestOptions, signAuditDigest } from './digests.js';
import { draftFromRow, EVENT_COLUMNS, type EventRow } from './event-rows.js';

export interface ExportAuditOptions {
  /** The period asked for; the export covers it from the digest before to the digest after. */
  from: Date;
  to: Date;
  /** Signs the export's header (and the on-demand digest that closes a period ending now). */
  signingKey: KeyObject | string;
  /** Events read per round trip. Default 1000. */
  pageSize?: number;
  /** Default: now. */
  now?: Date;
  /** Told how many events of how many are written, as they are. */
  onProgress?: (written: number, total: number) => void;
}

interface Plan {
  firstSeq: number;
  lastSeq: number;
  digests: Awaited<ReturnType<typeof digestsBetween>>;
}

/**
 * A tenant's audit trail for a period as packages/audit's JSONL export (lines without newlines;
 * see withNewlines): signed header, digests and events, exactly what `roster audit verify`
 * checks offline. The export runs from the last digest at or before `from` (the tenant's first
 * event when there is none) to the first digest at or after `to`; when the period reaches past
 * the newest digest, pending events are sealed and a digest is signed on demand first.
 */
export async function* exportAudit(
  pool: Pool,
  tenantId: string,
  options: ExportAuditOptions,
): AsyncGenerator<string> {
  const { from, to } = options;
  if (!(from.getTime() <= to.getTime())) {
    throw new AuditError(
      'AUDIT_EXPORT_INCONSISTENT',
      'The export period must have from <= to; swap the dates.',
    );
  }
  const now = options.now ?? new Date();
  const plan = await planExport(pool, tenantId, from, to, options.signingKey, { now });
  const pageSize = options.pageSize ?? 1000;
  const total = plan.lastSeq - plan.firstSeq + 1;
  async function* events(): AsyncGenerator<AuditEvent> {
    let next = plan.firstSeq;
    while (next <= plan.lastSeq) {
      // Sealed rows never change, so reading page by page in separate transactions is safe.
      const rows = await withTenant(pool, tenantId, async ({ client }) => {
        const result = await client.query<
          EventRow & { seq: string; prev_hash: string; hash: string }
        >(
          `SELECT ${EVENT_COLUMNS}, c.seq::text AS seq, c.prev_hash, c.hash
             FROM audit_chain c JOIN audit_events e ON e.tenant_id = c.tenant_id AND e.id = c.event_id
            WHERE c.tenant_id = $1 AND c.seq BETWEEN $2 AND $3 ORDER BY c.seq`,
          [tenantId, next, Math.min(plan.lastSeq, next + pageSize - 1)],
        );
        return result.rows;
      });
      if (rows.length === 0) return; // the writer reports the gap
      for (const row of rows) {
        yield {
          ...draftFromRow(row),
          seq: Number(row.seq),
          prevHash: row.prev_hash,
          hash: row.hash,
        };
      }
      next = Number(rows.at(-1)?.seq) + 1;
      options.onProgress?.(next - plan.firstSeq, total);
    }
  }
  yield* writeExport({
    tenantId,
    periodStart: from.toISOString(),
    periodEnd: to.toISOString(),
    exportedAt: now.toISOString(),
    firstSeq: plan.firstSeq,
    digests: plan.digests.map((d) => d.digest),
    events: events(),
    signingKey: options.signingKey,
  });
}

async function planExport(
  pool: Pool,
  tenantId: string,
  from: Date,
  to: Date,
  signingKey: KeyObject | string,
  signOptions: SignDigestOptions,
): Promise<Plan> {
  const newest = await withTenant(pool, tenantId, ({ client }) => lastDigest(client, tenantId));
  if (newest === null || Date.parse(newest.digest.periodEnd) < to.getTime()) {
    await signAuditDigest(pool, tenantId, signingKey, signOptions);
  }
  return withTenant(pool, tenantId, async ({ client }) => {
    const bound = await client.query<{ opening: number | null; closing: number | null }>(
      `SELECT (SELECT max(seq) FROM audit_digests WHERE tenant_id = $1 AND period_end <= $2) AS opening,
              coalesce((SELECT min(seq) FROM audit_digests WHERE tenant_id = $1 AND period_end >= $3),
                       (SELECT max(seq) FROM audit_digests WHERE tenant_id = $1)) AS closing`,
      [tenantId, from, to],
    );
    const opening = bound.rows[0]?.opening ?? null;
    const closing = bound.rows[0]?.closing ?? null;
    if (closing === null) {
      throw new AuditError('AUDIT_EXPORT_INCONSISTENT', 'The tenant has no signed digest yet.');
    }
    const digests = await digestsBetween(client, tenantId, opening ?? 1, closing);
    const first = digests[0];
    const last = digests.at(-1);
    if (first === undefined || last === undefined) {
      throw new AuditError('AUDIT_EXPORT_INCONSISTENT', 'The tenant has no signed digest yet.');
    }
    const firstSeq = opening === null ? 1 : first.digest.headSeq + 1;
    return { firstSeq, lastSeq: last.digest.headSeq, digests };
  });
}
