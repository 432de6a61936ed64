import type { AuditRequestContext } from '@roster/audit';
import { withAuditContext } from '@roster/db';
import type { Authenticated } from '../auth/authenticate.js';

/** Request ids that every audit event of a request carries. */
export interface RequestIds {
  requestId: string;
  traceId: string;
}

/** Who acts in a signed-in request: the member, or the API key (never its secret). */
export function auditContextOf(ids: RequestIds, auth: Authenticated): AuditRequestContext {
  const actor =
    auth.actor.kind === 'apiKey'
      ? { type: 'apiKey' as const, id: auth.actor.keyId }
      : { type: 'member' as const, id: auth.userId };
  return { actor, traceId: ids.traceId, requestId: ids.requestId };
}

/** The context of a person acting before they hold a credential (sign-up, sign-in). */
export function memberAuditContext(ids: Partial<RequestIds>, userId: string): AuditRequestContext {
  return {
    actor: { type: 'member', id: userId },
    traceId: ids.traceId ?? null,
    requestId: ids.requestId ?? null,
  };
}

/**
 * Runs `fn` (engine code that opens its own transactions) so that the audit events those
 * transactions write name this request's actor, trace and request instead of the system.
 */
export function asAuditCaller<T>(audit: AuditRequestContext, fn: () => Promise<T>): Promise<T> {
  return withAuditContext(
    {
      actorType: audit.actor.type,
      actorId: audit.actor.id,
      traceId: audit.traceId,
      requestId: audit.requestId,
    },
    fn,
  );
}
