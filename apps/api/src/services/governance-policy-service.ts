import { recordAudit } from '@roster/audit';
import type { Pool } from '@roster/db';
import {
  type EffectiveGovernancePolicy,
  effectiveGovernancePolicy,
  GovernanceError,
  type GovernancePolicy,
  type GovernancePolicyVersion,
  governancePolicyVersions,
  type PolicyIssue,
  policyChangedData,
  updateGovernancePolicy,
} from '@roster/governance';
import { ApiError, badInput, conflict } from '../errors.js';
import type { ServiceActor } from './service-actor.js';

/** The tenant's effective governance policy (the presenter: reads only). */
export async function presentGovernancePolicy(
  appPool: Pool,
  tenantId: string,
  defaults: GovernancePolicy | undefined,
): Promise<EffectiveGovernancePolicy> {
  return effectiveGovernancePolicy(appPool, tenantId, defaults ? { defaults } : {});
}

export async function listGovernancePolicyVersions(
  appPool: Pool,
  tenantId: string,
  page: { limit: number; beforeVersion?: number },
): Promise<{ nodes: GovernancePolicyVersion[]; hasNextPage: boolean }> {
  const rows = await governancePolicyVersions(appPool, tenantId, {
    limit: page.limit + 1,
    ...(page.beforeVersion !== undefined ? { beforeVersion: page.beforeVersion } : {}),
  });
  return { nodes: rows.slice(0, page.limit), hasNextPage: rows.length > page.limit };
}

/**
 * Saves the tenant's override as a new version. Problems come back as BAD_USER_INPUT with
 * `field` = `input.document.<path>` of the first one and every one in `problems`; a stale
 * expectedVersion as CONFLICT.
 */
export async function saveGovernancePolicy(
  appPool: Pool,
  actor: ServiceActor,
  defaults: GovernancePolicy | undefined,
  input: { document: Record<string, unknown>; expectedVersion: number; comment?: string | null },
): Promise<EffectiveGovernancePolicy> {
  if (!Number.isInteger(input.expectedVersion) || input.expectedVersion < 0) {
    throw badInput(
      'input.expectedVersion',
      'expectedVersion is the version you edited (0 for none).',
    );
  }
  if (input.comment && input.comment.length > 1000) {
    throw badInput('input.comment', 'Keep the comment under 1000 characters.');
  }
  try {
    return await updateGovernancePolicy(
      appPool,
      actor.tenantId,
      {
        document: input.document,
        expectedVersion: input.expectedVersion,
        comment: input.comment ?? null,
        createdBy: actor.audit.actor.id,
      },
      {
        ...(defaults ? { defaults } : {}),
        audit: (client, change) =>
          recordAudit(client, actor.tenantId, actor.audit, {
            action: 'policy.changed',
            subject: { type: 'policy', id: 'governance' },
            data: policyChangedData(change),
            before: change.before as never,
            after: change.after as never,
          }),
      },
    );
  } catch (error) {
    if (error instanceof GovernanceError && error.code === 'POLICY_INVALID') {
      const issues = (error.details?.issues ?? []) as PolicyIssue[];
      const field = (path: string) => (path ? `input.document.${path}` : 'input.document');
      throw new ApiError('BAD_USER_INPUT', error.message, {
        field: field(issues[0]?.path ?? ''),
        problems: issues.map((i) => ({ path: field(i.path), message: i.message })),
      });
    }
    if (error instanceof GovernanceError && error.code === 'POLICY_CONFLICT') {
      throw conflict(error.message, { field: 'input.expectedVersion' });
    }
    throw error;
  }
}
