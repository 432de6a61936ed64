import { type Pool, withTenant } from '@roster/db';
import {
  type EngineOptions,
  type ExecutorCall,
  ExecutorRegistry,
  type ExecutorResult,
} from '@roster/engine';
import { hasSealedValues, type PersonalDataVault } from '@roster/governance';

// Run inputs are stored sealed (EngineOptions.sealInput); steps that compute inside the engine
// pass the tokens along untouched. Only a step that reaches outside (a connector, a decision)
// needs the plaintext: it gets its input opened for the invocation, and its output is sealed
// before the engine stores it. Steps with nothing sealed and no '@' in their output cost no query.

export interface PersonalDataExecutorOptions {
  /** roster_app pool (keys are read under the tenant's RLS context). */
  pool: Pool;
  vault: PersonalDataVault;
}

function mayHoldEmail(value: unknown): boolean {
  return value !== undefined && value !== null && JSON.stringify(value).includes('@');
}

function wrap<C extends ExecutorCall>(
  inner: () => (call: C) => Promise<ExecutorResult>,
  { pool, vault }: PersonalDataExecutorOptions,
): (call: C) => Promise<ExecutorResult> {
  return async (call) => {
    const input = hasSealedValues(call.input)
      ? await withTenant(pool, call.tenantId, ({ client }) =>
          vault.open(client, call.tenantId, call.input),
        )
      : call.input;
    const result = await inner()({ ...call, input });
    if ('wait' in result || !mayHoldEmail(result.output)) return result;
    const output = await withTenant(pool, call.tenantId, ({ client }) =>
      vault.seal(client, call.tenantId, result.output),
    );
    return { output };
  };
}

/**
 * The same executors, with personal data opened for the call and sealed in what it returns.
 * Looks the inner executors up per call, so a registry filled later still works.
 */
export function withPersonalData(
  inner: ExecutorRegistry,
  options: PersonalDataExecutorOptions,
): ExecutorRegistry {
  return new ExecutorRegistry()
    .registerConnector(wrap(() => inner.connector(), options))
    .registerDecision(wrap(() => inner.decision(), options));
}

/**
 * Engine options that seal personal data in the inputs of runs a worker starts itself (schedules,
 * review escalations), as the API and inbound e-mail do for theirs.
 */
export function sealingEngineOptions(vault: PersonalDataVault): EngineOptions {
  return {
    sealInput: (client, tenantId, input) => vault.seal(client, tenantId, input),
    // What the vault seals all contains '@' (e-mail addresses name the subject).
    mayHoldPersonalData: mayHoldEmail,
  };
}
