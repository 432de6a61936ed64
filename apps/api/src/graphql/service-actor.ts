import { auditContextOf } from '../services/audit-actor.js';
import type { ServiceActor } from '../services/service-actor.js';
import { type RequestContext, requireAuth } from './context.js';

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
