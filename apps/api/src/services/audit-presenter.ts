import type { AuditDigest, AuditExportFormat } from '@roster/audit';
import { type Pool, withTenant } from '@roster/db';
import { badInput } from '../errors.js';
import { type PageRequest, toPage } from '../graphql/pagination.js';

export interface AuditExportRow {
  id: string;
  format: AuditExportFormat;
  from: Date;
  to: Date;
  status: 'pending' | 'ready' | 'failed';
  byteSize: number | null;
  eventCount: number | null;
  error: string | null;
  requestedBy: string | null;
  createdAt: Date;
  completedAt: Date | null;
}

export const EXPORT_COLUMNS = `id, format, period_from AS "from", period_to AS "to", status,
  byte_size AS "byteSize", event_count AS "eventCount", error, requested_by AS "requestedBy",
  created_at AS "createdAt", completed_at AS "completedAt"`;

export interface AuditEventRow {
  id: string;
  occurredAt: Date;
  action: string;
  actorType: string;
  actorId: string;
  subjectType: string | null;
  subjectId: string | null;
  runId: string | null;
  traceId: string | null;
  requestId: string | null;
  data: Record<string, unknown> | null;
  before: unknown;
  after: unknown;
  /** The event's place in the tenant's hash chain; null until the hourly seal. */
  seq: number | null;
}

export interface AuditEventFilter {
  from: Date | null;
  to: Date | null;
  /** Exact action, or a prefix ending in `.` (e.g. `workflow.`). */
  action: string | null;
  actorId: string | null;
  actorType: string | null;
}

export async function listAuditExports(appPool: Pool, tenantId: string, page: PageRequest) {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query<AuditExportRow>(
      `SELECT ${EXPORT_COLUMNS} FROM audit_exports
        WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::uuid))
        ORDER BY created_at, id LIMIT $4`,
      [tenantId, page.after?.createdAt ?? null, page.after?.id ?? null, page.limit + 1],
    );
    return toPage(rows, page.limit);
  });
}

export async function getAuditExport(
  appPool: Pool,
  tenantId: string,
  id: string,
): Promise<AuditExportRow | undefined> {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query<AuditExportRow>(
      `SELECT ${EXPORT_COLUMNS} FROM audit_exports WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return rows[0];
  });
}

const EVENT_CURSOR = /^[0-9]{1,19}$/;

export function encodeEventCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

function decodeEventCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!EVENT_CURSOR.test(id)) {
    throw badInput(
      'after',
      'after is not a cursor from this list. Pass an endCursor from a previous page.',
    );
  }
  return id;
}

/** A tenant's audit events, oldest first (by id), filtered, keyset-paged on the id. */
export async function listAuditEvents(
  appPool: Pool,
  tenantId: string,
  filter: AuditEventFilter,
  page: { limit: number; after: string | null },
) {
  const after = page.after === null ? null : decodeEventCursor(page.after);
  const action = filter.action;
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query<AuditEventRow>(
      `SELECT e.id::text AS id, e.created_at AS "occurredAt", e.kind AS action,
              e.actor_type AS "actorType", e.actor_id AS "actorId", e.subject_type AS "subjectType",
              e.subject_id AS "subjectId", e.run_id::text AS "runId", e.trace_id AS "traceId",
              e.request_id AS "requestId", e.data, e.before, e.after, c.seq::int AS seq
         FROM audit_events e
         LEFT JOIN audit_chain c ON c.tenant_id = e.tenant_id AND c.event_id = e.id
        WHERE e.tenant_id = $1
          AND ($2::bigint IS NULL OR e.id > $2)
          AND ($3::timestamptz IS NULL OR e.created_at >= $3)
          AND ($4::timestamptz IS NULL OR e.created_at < $4)
          AND ($5::text IS NULL OR e.kind = $5 OR (right($5, 1) = '.' AND starts_with(e.kind, $5)))
          AND ($6::text IS NULL OR e.actor_id = $6)
          AND ($7::text IS NULL OR e.actor_type = $7)
        ORDER BY e.id LIMIT $8`,
      [
        tenantId,
        after,
        filter.from,
        filter.to,
        action,
        filter.actorId,
        filter.actorType,
        page.limit + 1,
      ],
    );
    const nodes = rows.slice(0, page.limit);
    return {
      nodes,
      hasNextPage: rows.length > page.limit,
      endCursor: nodes.length ? encodeEventCursor(nodes.at(-1)!.id) : null,
    };
  });
}

export async function getAuditEvent(
  appPool: Pool,
  tenantId: string,
  id: string,
): Promise<AuditEventRow | undefined> {
  const page = await listAuditEvents(
    appPool,
    tenantId,
    { from: null, to: null, action: null, actorId: null, actorType: null },
    // The event with this id: the one right after id - 1.
    { limit: 1, after: encodeEventCursor((BigInt(id) - 1n).toString()) },
  );
  return page.nodes[0]?.id === id ? page.nodes[0] : undefined;
}

export interface AuditDigestRow {
  seq: number;
  digest: AuditDigest;
  record: string;
}

/** A tenant's signed digests, newest first, keyset-paged on seq. */
export async function listAuditDigests(
  appPool: Pool,
  tenantId: string,
  page: { limit: number; before: number | null },
) {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query<{ seq: number; record: string }>(
      `SELECT seq, record FROM audit_digests
        WHERE tenant_id = $1 AND ($2::int IS NULL OR seq < $2) ORDER BY seq DESC LIMIT $3`,
      [tenantId, page.before, page.limit + 1],
    );
    const nodes: AuditDigestRow[] = rows.slice(0, page.limit).map((r) => ({
      seq: r.seq,
      record: r.record,
      digest: JSON.parse(r.record) as AuditDigest,
    }));
    return {
      nodes,
      hasNextPage: rows.length > page.limit,
      endCursor: nodes.length ? String(nodes.at(-1)!.seq) : null,
    };
  });
}
