import { withTenant } from '@roster/db';
import type { EngineOptions } from '@roster/engine';
import {
  createPersonalDataVault,
  hasSealedValues,
  type PersonalDataVault,
} from '@roster/governance';
import type { KeyProvider } from '@roster/plugin-host';
import type { RequestContext } from '../graphql/context.js';

const vaults = new WeakMap<KeyProvider, PersonalDataVault>();

/** One vault per key provider (it holds no state beyond the provider). */
export function vaultFor(provider: KeyProvider): PersonalDataVault {
  let vault = vaults.get(provider);
  if (!vault) {
    vault = createPersonalDataVault(provider);
    vaults.set(provider, vault);
  }
  return vault;
}

/**
 * A stored value as an authorised reader sees it: sealed personal values opened, those of erased
 * subjects as `[erased]`. Without a master key configured, tokens are shown as stored.
 */
export async function openPersonalData(ctx: RequestContext, value: unknown): Promise<unknown> {
  const provider = ctx.marketplace.keyProvider;
  const tenantId = ctx.auth?.actor.tenantId;
  if (!provider || !tenantId || !hasSealedValues(value)) return value;
  const vault = vaultFor(provider);
  return withTenant(ctx.appPool, tenantId, ({ client }) => vault.open(client, tenantId, value));
}

/**
 * Engine options that seal personal data in the inputs of runs this request starts (when a master
 * key is configured; without one inputs are stored as given).
 */
export function sealingEngineOptions(ctx: RequestContext): EngineOptions {
  return sealingOptions(ctx.marketplace.keyProvider);
}

/**
 * The same for runs started outside a GraphQL request (webhook triggers): sealing with the
 * marketplace's key provider, or nothing without one.
 */
export function sealingOptions(provider: KeyProvider | undefined): EngineOptions {
  if (!provider) return {};
  const vault = vaultFor(provider);
  return {
    sealInput: (client, tenantId, input) => vault.seal(client, tenantId, input),
    // What the vault seals all contains '@' (e-mail addresses name the subject).
    mayHoldPersonalData: (input) => JSON.stringify(input).includes('@'),
  };
}
