import type { PoolClient } from '@roster/db';
import { appendToChain, type ChainHead, GENESIS_HASH } from '../chain.js';
import { draftFromRow, EVENT_COLUMNS, type EventRow } from './event-rows.js';

/** Advisory lock namespace of the audit sealer ('audi'); the second key is the tenant's hash. */
const LOCK_NAMESPACE = 0x61756469;

export interface SealOptions {
  /** Events hashed per round trip. Default 1000. */
  batchSize?: number;
  /**
   * How far before the last sealed event to look for events that committed late (a transaction
   * that started earlier but committed after the last seal). Default 3600 s; transactions in
   * Roster last seconds (the API's budget is 10 s).
   */
  lookbackSeconds?: number;
}

/**
 * Takes the tenant's sealing lock for the rest of the caller's transaction. Writers of events
 * never take it: only sealers and signers queue on it.
 */
export async function lockTenantChain(client: PoolClient, tenantId: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))', [
    LOCK_NAMESPACE,
    tenantId,
  ]);
}

/** The tenant's chain head as stored (seq 0 and GENESIS_HASH when nothing is sealed). */
export async function chainHead(client: PoolClient, tenantId: string): Promise<ChainHead> {
  const { rows } = await client.query<{ seq: string; hash: string }>(
    // Order by the bigint column, not the text alias ('99' sorts after '141').
    'SELECT c.seq::text AS seq, c.hash FROM audit_chain c WHERE c.tenant_id = $1 ORDER BY c.seq DESC LIMIT 1',
    [tenantId],
  );
  const row = rows[0];
  return row
    ? { tenantId, seq: Number(row.seq), hash: row.hash }
    : { tenantId, seq: 0, hash: GENESIS_HASH };
}

/**
 * Appends the tenant's unsealed events to its hash chain (audit_chain), oldest id first, under
 * the tenant's advisory lock, in the caller's withTenant transaction. Each link's hash is
 * packages/audit's hashEvent over the event exactly as exported, so an export of these rows
 * verifies offline. Returns the new head.
 */
export async function sealAuditEvents(
  client: PoolClient,
  tenantId: string,
  options: SealOptions = {},
): Promise<{ head: ChainHead; sealed: number }> {
  const batchSize = options.batchSize ?? 1000;
  const lookback = options.lookbackSeconds ?? 3600;
  await lockTenantChain(client, tenantId);
  let head = await chainHead(client, tenantId);
  let sealed = 0;
  for (;;) {
    // Unsealed events: everything before the first seal, afterwards those created up to
    // `lookback` before the newest sealed event and not yet in the chain.
    const { rows } = await client.query<EventRow>(
      `SELECT ${EVENT_COLUMNS}
         FROM audit_events e
        WHERE e.tenant_id = $1
          AND e.created_at >= coalesce((
                SELECT max(s.created_at) FROM audit_chain c
                  JOIN audit_events s ON s.tenant_id = c.tenant_id AND s.id = c.event_id
                 WHERE c.tenant_id = $1 AND c.seq > $4 - 100) - make_interval(secs => $3),
                '-infinity')
          AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.tenant_id = e.tenant_id AND c.event_id = e.id)
        ORDER BY e.id
        LIMIT $2`,
      [tenantId, batchSize, lookback, head.seq],
    );
    if (rows.length === 0) break;
    const links = {
      seq: [] as number[],
      eventId: [] as string[],
      prev: [] as string[],
      hash: [] as string[],
    };
    for (const row of rows) {
      const event = appendToChain(head, draftFromRow(row));
      links.seq.push(event.seq);
      links.eventId.push(row.id);
      links.prev.push(event.prevHash);
      links.hash.push(event.hash);
      head = { tenantId, seq: event.seq, hash: event.hash };
    }
    await client.query(
      `INSERT INTO audit_chain (tenant_id, seq, event_id, prev_hash, hash)
       SELECT $1, s, e, p, h FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[]) AS t(s, e, p, h)`,
      [tenantId, links.seq, links.eventId, links.prev, links.hash],
    );
    sealed += rows.length;
    if (rows.length < batchSize) break;
  }
  return { head, sealed };
}
