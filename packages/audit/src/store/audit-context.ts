import type { AuditActor } from '../event.js';

/** Who acts and in which request: passed from the API's request context into services. */
export interface AuditRequestContext {
  actor: AuditActor;
  /** The W3C trace id of the request; null outside a trace. */
  traceId: string | null;
  requestId: string | null;
}

/** The context of work Roster does on its own (worker, cron, operator CLI). */
export function systemAuditContext(id: string): AuditRequestContext {
  return { actor: { type: 'system', id }, traceId: null, requestId: null };
}
