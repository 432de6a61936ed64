import type { KeyObject } from 'node:crypto';
import { type Pool, type PoolClient, withTenant } from '@roster/db';
import { canonicalize } from '../canonical-json.js';
import { type AuditDigest, digestHash, signDigest } from '../digest.js';
import { sealAuditEvents } from './sealer.js';

export interface StoredDigest {
  /** The digest's number in the tenant's digest chain, from 1. */
  seq: number;
  digest: AuditDigest;
}

export interface SignDigestOptions {
  /** Default: now. */
  now?: Date;
  /** Sign even when the chain head has not moved since the last digest. Default false. */
  always?: boolean;
}

/**
 * Seals the tenant's pending events and signs a digest of the chain head with `signingKey`
 * (ed25519), naming the previous digest's hash (CloudTrail's design), in one transaction under
 * the tenant's sealing lock. When the head has not moved since the last digest, returns that
 * digest instead of signing another (unless `always`). A tenant with no digest gets one even
 * for an empty chain, so every export has a closing digest.
 */
export async function signAuditDigest(
  pool: Pool,
  tenantId: string,
  signingKey: KeyObject | string,
  options: SignDigestOptions = {},
): Promise<StoredDigest & { created: boolean }> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { head } = await sealAuditEvents(client, tenantId);
    const last = await lastDigest(client, tenantId);
    if (last && last.digest.headSeq === head.seq && !options.always) {
      return { ...last, created: false };
    }
    const now = (options.now ?? new Date()).toISOString();
    const periodStart = last?.digest.periodEnd ?? (await firstEventTime(client, tenantId)) ?? now;
    const digest = signDigest(
      {
        tenantId,
        headSeq: head.seq,
        headHash: head.hash,
        previousDigestHash: last ? digestHash(last.digest) : null,
        // A clock that stepped back must not make the period end before it starts.
        periodStart: Date.parse(periodStart) > Date.parse(now) ? now : periodStart,
        periodEnd: now,
        signedAt: now,
      },
      signingKey,
    );
    const seq = (last?.seq ?? 0) + 1;
    await client.query(
      `INSERT INTO audit_digests (tenant_id, seq, head_seq, period_start, period_end, signed_at, record, digest_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        tenantId,
        seq,
        digest.headSeq,
        digest.periodStart,
        digest.periodEnd,
        digest.signedAt,
        canonicalize(digest),
        digestHash(digest),
      ],
    );
    return { seq, digest, created: true };
  });
}

export async function lastDigest(
  client: PoolClient,
  tenantId: string,
): Promise<StoredDigest | null> {
  const { rows } = await client.query<{ seq: number; record: string }>(
    'SELECT seq, record FROM audit_digests WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1',
    [tenantId],
  );
  const row = rows[0];
  return row ? { seq: row.seq, digest: JSON.parse(row.record) as AuditDigest } : null;
}

/** Digests with seq in [fromSeq, toSeq], in order. */
export async function digestsBetween(
  client: PoolClient,
  tenantId: string,
  fromSeq: number,
  toSeq: number,
): Promise<StoredDigest[]> {
  const { rows } = await client.query<{ seq: number; record: string }>(
    'SELECT seq, record FROM audit_digests WHERE tenant_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq',
    [tenantId, fromSeq, toSeq],
  );
  return rows.map((r) => ({ seq: r.seq, digest: JSON.parse(r.record) as AuditDigest }));
}

async function firstEventTime(client: PoolClient, tenantId: string): Promise<string | null> {
  const { rows } = await client.query<{ at: Date | null }>(
    'SELECT min(created_at) AS at FROM audit_events WHERE tenant_id = $1',
    [tenantId],
  );
  return rows[0]?.at ? rows[0].at.toISOString() : null;
}

/**
 * The hourly job: a digest for every tenant whose chain moved (or that has none yet). Lists
 * tenants through roster_audit_tenants() (SECURITY DEFINER) and signs each under its own RLS
 * context. A tenant that fails is reported and the others still get their digest.
 */
export async function signAllTenantDigests(
  pool: Pool,
  signingKey: KeyObject | string,
  options: SignDigestOptions = {},
): Promise<{ signed: number; unchanged: number; failed: { tenantId: string; error: unknown }[] }> {
  const { rows } = await pool.query<{ tenant_id: string }>(
    'SELECT tenant_id FROM roster_audit_tenants()',
  );
  const result = { signed: 0, unchanged: 0, failed: [] as { tenantId: string; error: unknown }[] };
  for (const { tenant_id: tenantId } of rows) {
    try {
      const { created } = await signAuditDigest(pool, tenantId, signingKey, options);
      if (created) result.signed++;
      else result.unchanged++;
    } catch (error) {
      result.failed.push({ tenantId, error });
    }
  }
  return result;
}

/** The tenant id of a slug (for operators who name tenants by slug), or null. */
export async function tenantIdForSlug(pool: Pool, slug: string): Promise<string | null> {
  const { rows } = await pool.query<{ tenant_id: string }>(
    'SELECT tenant_id FROM roster_audit_tenants() WHERE slug = $1',
    [slug],
  );
  return rows[0]?.tenant_id ?? null;
}
