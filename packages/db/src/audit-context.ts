import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who is acting, for audit events written by code that opens its own transactions (the engine's
 * startRuns, cancelRun, ...). withTenant copies it into transaction-local settings that the
 * defaults of audit_events read, so those events name the caller instead of `system`.
 */
export interface AuditSessionContext {
  actorType: 'member' | 'apiKey' | 'system' | 'runner';
  actorId: string;
  traceId: string | null;
  requestId: string | null;
}

const store = new AsyncLocalStorage<AuditSessionContext>();

/** Runs `fn` with `context` as the audit context of every withTenant transaction it opens. */
export function withAuditContext<T>(context: AuditSessionContext, fn: () => T): T {
  return store.run(context, fn);
}

// Only plain identifier characters are inlined; anything else (a caller's odd x-request-id) is
// left out rather than quoted, so no value can ever change the statement.
const SAFE = /^[A-Za-z0-9._:@/-]{1,200}$/;

/** `SET LOCAL` statements for the current audit context ('' when there is none). */
export function auditSettingsSql(): string {
  const context = store.getStore();
  if (context === undefined) return '';
  const settings: [string, string | null][] = [
    ['roster.actor_type', context.actorType],
    ['roster.actor_id', context.actorId],
    ['roster.trace_id', context.traceId],
    ['roster.request_id', context.requestId],
  ];
  let sql = '';
  for (const [name, value] of settings) {
    if (value !== null && SAFE.test(value)) sql += `; SET LOCAL ${name} = '${value}'`;
  }
  return sql;
}
