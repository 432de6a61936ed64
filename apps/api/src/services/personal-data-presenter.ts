import { withTenant } from '@roster/db';
import {
  createPersonalDataVault,
  hasSealedValues,
  type PersonalDataVault,
} from '@roster/governance';
import type { KeyProvider } from '@roster/plugin-host';
import type { RequestContext } from '../graphql/context.js';

const vaults = new WeakMap<KeyProvider, PersonalDataVault>();

/**
 * A stored value as an authorised reader sees it: sealed personal values opened, those of erased
 * subjects as `[erased]`. Without a master key configured, tokens are shown as stored.
 */
export async function openPersonalData(ctx: RequestContext, value: unknown): Promise<unknown> {
  const provider = ctx.marketplace.keyProvider;
  const tenantId = ctx.auth?.actor.tenantId;
  if (!provider || !tenantId || !hasSealedValues(value)) return value;
  let vault = vaults.get(provider);
  if (!vault) {
    vault = createPersonalDataVault(provider);
    vaults.set(provider, vault);
  }
  const opener = vault;
  return withTenant(ctx.appPool, tenantId, ({ client }) => opener.open(client, tenantId, value));
}
