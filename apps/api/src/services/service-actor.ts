import type { AuditRequestContext } from '@roster/audit';
import type { RosterAbility } from '@roster/authz';

/** What a write service needs to know about its caller: tenant, person, ability, audit context. */
export interface ServiceActor {
  tenantId: string;
  userId: string;
  ability: RosterAbility;
  /** Who acts in which request; events of global rows are recorded in the acting tenant. */
  audit: AuditRequestContext;
}
