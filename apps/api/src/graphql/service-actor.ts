import type { AuditRequestContext } from '@roster/audit';
import type { RosterAbility } from '@roster/authz';
import { auditContextOf } from '../services/audit-actor.js';
import { type RequestContext, requireAuth } from './context.js';

/** What a write service needs to know about its caller: tenant, person, ability, audit context. */
export interface ServiceActor {
  tenantId: string;
  userId: string;
  ability: RosterAbility;
  audit: AuditRequestContext;
}

/** The authenticated caller as services take it (UNAUTHENTICATED when there is none). */
export function serviceActorOf(ctx: RequestContext): ServiceActor {
  const auth = requireAuth(ctx);
  return {
    tenantId: auth.actor.tenantId,
    userId: auth.userId,
    ability: auth.ability,
    audit: auditContextOf(ctx, auth),
  };
}
