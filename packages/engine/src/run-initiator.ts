import type { PoolClient } from '@roster/db';
import { EngineError } from './errors.js';

/** What started a run (runs.started_by_kind). */
export type RunInitiatorKind =
  | 'member'
  | 'apiKey'
  | 'schedule'
  | 'webhook'
  | 'emailTrigger'
  | 'run'
  | 'system';

/**
 * Who or what starts a run. `memberId` is the person accountable for it (a member's user id; for
 * an API key, the member who created the key); it is what ownership rules (`createdBy`) and
 * four-eyes checks compare with the acting member. Triggers name their own id; a child run
 * (callWorkflow) names its parent run and may pass on the parent's member.
 */
export type RunInitiator =
  | { kind: 'member'; memberId: string }
  | { kind: 'apiKey'; apiKeyId: string; memberId: string }
  | { kind: 'schedule' | 'webhook' | 'emailTrigger' | 'run'; id: string; memberId?: string | null }
  | { kind: 'system' };

/** A run's initiator as stored: `id` is the member's, key's, trigger's or parent run's id. */
export interface RunInitiatorView {
  kind: RunInitiatorKind;
  id: string | null;
  /** The accountable member (runs.created_by), null for trigger- and system-started runs. */
  memberId: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkId(value: unknown, what: string): string {
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw new EngineError(
      'BAD_USER_INPUT',
      `startedBy.${what} must be a UUID, got ${JSON.stringify(value)}: pass the id of the member, key, trigger or run that starts the run.`,
      { field: `startedBy.${what}` },
    );
  }
  return value;
}

/** The runs columns of an initiator (created_by, started_by_kind, started_by_id). */
export function initiatorColumns(by: RunInitiator | undefined): {
  created_by: string | null;
  started_by_kind: RunInitiatorKind;
  started_by_id: string | null;
} {
  if (!by || by.kind === 'system') {
    return { created_by: null, started_by_kind: 'system', started_by_id: null };
  }
  if (by.kind === 'member') {
    const id = checkId(by.memberId, 'memberId');
    return { created_by: id, started_by_kind: 'member', started_by_id: id };
  }
  if (by.kind === 'apiKey') {
    return {
      created_by: checkId(by.memberId, 'memberId'),
      started_by_kind: 'apiKey',
      started_by_id: checkId(by.apiKeyId, 'apiKeyId'),
    };
  }
  return {
    created_by: by.memberId ? checkId(by.memberId, 'memberId') : null,
    started_by_kind: by.kind,
    started_by_id: checkId(by.id, 'id'),
  };
}

export function initiatorView(row: {
  created_by: string | null;
  started_by_kind: string;
  started_by_id: string | null;
}): RunInitiatorView {
  return {
    kind: row.started_by_kind as RunInitiatorKind,
    id: row.started_by_id,
    memberId: row.created_by,
  };
}

/**
 * Who started a run, read in the caller's tenant transaction (e.g. a review's four-eyes check:
 * the run's initiator may not approve it). Null when the run does not exist in this tenant.
 */
export async function runInitiator(
  client: PoolClient,
  tenantId: string,
  runId: string,
): Promise<RunInitiatorView | null> {
  const { rows } = await client.query<{
    created_by: string | null;
    started_by_kind: string;
    started_by_id: string | null;
  }>(
    'SELECT created_by, started_by_kind, started_by_id FROM runs WHERE tenant_id = $1 AND id = $2',
    [tenantId, runId],
  );
  return rows[0] ? initiatorView(rows[0]) : null;
}
