import { createMongoAbility, type MongoAbility, subject } from '@casl/ability';
import type { CapabilityName } from '@roster/plugin-sdk';

/** What a host call is, as CASL sees it: one method of one capability. */
interface HostCallSubject {
  readonly capability: CapabilityName;
  readonly method: string;
}

export type HostCallAbility = MongoAbility<
  ['call', 'HostCall' | (HostCallSubject & { __caslSubjectType__?: 'HostCall' })]
>;

/**
 * The installation's grant as a CASL ability: it may `call` a host method only when its
 * capability is among the granted scopes. No rule matches anything else, so the default is deny
 * (the same engine that checks the API's roles checks every plugin host call).
 */
export function hostCallAbility(granted: readonly CapabilityName[]): HostCallAbility {
  return createMongoAbility([
    { action: 'call', subject: 'HostCall', conditions: { capability: { $in: [...granted] } } },
  ]) as HostCallAbility;
}

export function mayCall(
  ability: HostCallAbility,
  capability: CapabilityName,
  method: string,
): boolean {
  return ability.can('call', subject('HostCall', { capability, method }) as never);
}
