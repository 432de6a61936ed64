// A tenant's governance policy in Postgres: governance_policy_versions holds each saved override
// (never updated); the newest one is in force. Readers look the version up on every use (one
// primary-key probe) and reuse the parsed document while it is unchanged, so a saved change
// applies to the next decision, connector call or sweep in every process, without a restart.
import { type Pool, type PoolClient, withTenant } from '@roster/db';
import { GovernanceError } from '../errors.js';
import { DEFAULT_GOVERNANCE_POLICY } from './defaults.js';
import { applyOverride } from './document.js';
import type { GovernancePolicy, GovernancePolicyOverride } from './schema.js';

type Queryable = Pick<PoolClient, 'query'>;

export interface EffectiveGovernancePolicy {
  /** The policy in force: the override merged over the defaults. */
  policy: GovernancePolicy;
  /** The tenant's current version; 0 when it never saved an override. */
  version: number;
  /** The deployment's defaults (policies/governance.yaml). */
  defaults: GovernancePolicy;
  /** The tenant's saved override, null when none. */
  override: GovernancePolicyOverride | null;
}

export interface GovernancePolicyVersion {
  version: number;
  document: GovernancePolicyOverride;
  createdBy: string;
  createdAt: Date;
  comment: string | null;
}

export interface PolicyReadOptions {
  /** The deployment's defaults, as loaded at boot. Default: DEFAULT_GOVERNANCE_POLICY. */
  defaults?: GovernancePolicy;
}

const cache = new WeakMap<GovernancePolicy, Map<string, EffectiveGovernancePolicy>>();

/** The tenant's effective policy, read inside a transaction the caller holds (RLS applies). */
export async function effectiveGovernancePolicyIn(
  client: Queryable,
  tenantId: string,
  options: PolicyReadOptions = {},
): Promise<EffectiveGovernancePolicy> {
  const defaults = options.defaults ?? DEFAULT_GOVERNANCE_POLICY;
  const perTenant = cache.get(defaults) ?? new Map<string, EffectiveGovernancePolicy>();
  cache.set(defaults, perTenant);
  const { rows } = await client.query<{ version: number }>(
    'SELECT version FROM governance_policy_versions WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1',
    [tenantId],
  );
  const version = rows[0]?.version ?? 0;
  const hit = perTenant.get(tenantId);
  if (hit && hit.version === version) return hit;
  let override: GovernancePolicyOverride | null = null;
  if (version > 0) {
    const doc = await client.query<{ document: GovernancePolicyOverride }>(
      'SELECT document FROM governance_policy_versions WHERE tenant_id = $1 AND version = $2',
      [tenantId, version],
    );
    override = doc.rows[0]?.document ?? null;
  }
  const effective = {
    policy: applyOverride(
      defaults,
      override,
      `Version ${version} of the tenant's governance policy`,
    ),
    version,
    defaults,
    override,
  };
  perTenant.set(tenantId, effective);
  return effective;
}

/**
 * The tenant's effective governance policy (defaults + its newest override). Cheap enough to call
 * per use: one indexed probe, the parsed document is reused until the version changes.
 */
export async function effectiveGovernancePolicy(
  pool: Pool,
  tenantId: string,
  options: PolicyReadOptions = {},
): Promise<EffectiveGovernancePolicy> {
  return withTenant(pool, tenantId, ({ client }) =>
    effectiveGovernancePolicyIn(client, tenantId, options),
  );
}

/** Saved versions, newest first. */
export async function governancePolicyVersions(
  pool: Pool,
  tenantId: string,
  page: { limit?: number; beforeVersion?: number } = {},
): Promise<GovernancePolicyVersion[]> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<{
      version: number;
      document: GovernancePolicyOverride;
      created_by: string;
      created_at: Date;
      comment: string | null;
    }>(
      `SELECT version, document, created_by, created_at, comment FROM governance_policy_versions
        WHERE tenant_id = $1 AND ($2::int IS NULL OR version < $2)
        ORDER BY version DESC LIMIT $3`,
      [tenantId, page.beforeVersion ?? null, page.limit ?? 50],
    );
    return rows.map((r) => ({
      version: r.version,
      document: r.document,
      createdBy: r.created_by,
      createdAt: r.created_at,
      comment: r.comment,
    }));
  });
}

export interface UpdateGovernancePolicyInput {
  /** The tenant's whole new override (it replaces the previous one). */
  document: GovernancePolicyOverride;
  /** The version the caller edited (0 when there is none yet): a newer one fails with POLICY_CONFLICT. */
  expectedVersion: number;
  comment?: string | null;
  /** Who saves it (member or API key id), kept on the version row. */
  createdBy: string;
}

/** What a saved change records: the effective policy before and after. */
export interface GovernancePolicyChange {
  fromVersion: number;
  version: number;
  before: GovernancePolicy;
  after: GovernancePolicy;
  comment: string | null;
}

export interface PolicyUpdateOptions extends PolicyReadOptions {
  /**
   * Records the change in the saving transaction. Default: a `policy.changed` audit event whose
   * actor comes from the session's audit context (the API passes recordAudit with its caller).
   */
  audit?: (client: PoolClient, change: GovernancePolicyChange) => Promise<unknown>;
}

/** `policy.changed` data in the shape @roster/audit's reports read (PolicyChangedData). */
export function policyChangedData(change: GovernancePolicyChange) {
  return {
    policy: 'governance',
    summary: `governance policy version ${change.fromVersion} → ${change.version}${change.comment ? `: ${change.comment}` : ''}`,
    version: change.version,
  };
}

/**
 * Saves a new version of the tenant's override after checking it, and records `policy.changed`
 * with the effective policy before and after, in the same transaction.
 */
export async function updateGovernancePolicy(
  pool: Pool,
  tenantId: string,
  input: UpdateGovernancePolicyInput,
  options: PolicyUpdateOptions = {},
): Promise<EffectiveGovernancePolicy> {
  const defaults = options.defaults ?? DEFAULT_GOVERNANCE_POLICY;
  const after = applyOverride(defaults, input.document, 'The document');
  return withTenant(pool, tenantId, async ({ client }) => {
    // Serialises saves per tenant so two editors of the same version cannot both win.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`governance:${tenantId}`]);
    const before = await effectiveGovernancePolicyIn(client, tenantId, { defaults });
    if (before.version !== input.expectedVersion) {
      throw new GovernanceError(
        'POLICY_CONFLICT',
        `The governance policy is at version ${before.version}, not ${input.expectedVersion}: someone saved it meanwhile. Reload it, reapply your change and save with expectedVersion ${before.version}.`,
        { field: 'expectedVersion', currentVersion: before.version },
      );
    }
    const version = before.version + 1;
    await client.query(
      `INSERT INTO governance_policy_versions (tenant_id, version, document, created_by, comment)
       VALUES ($1, $2, $3, $4, $5)`,
      [tenantId, version, JSON.stringify(input.document), input.createdBy, input.comment ?? null],
    );
    const change = {
      fromVersion: before.version,
      version,
      before: before.policy,
      after,
      comment: input.comment ?? null,
    };
    if (options.audit) await options.audit(client, change);
    else {
      await client.query(
        `INSERT INTO audit_events (tenant_id, kind, data, subject_type, subject_id, before, after)
         VALUES ($1, 'policy.changed', $2, 'policy', 'governance', $3, $4)`,
        [tenantId, policyChangedData(change), JSON.stringify(before.policy), JSON.stringify(after)],
      );
    }
    return { policy: after, version, defaults, override: input.document };
  });
}
