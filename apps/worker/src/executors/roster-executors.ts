// The executors `roster up` gives its worker processes (startWorkers' executorModule): decision
// steps go to the tenant's runner pool; connector steps run installed marketplace plugins in the
// sandbox pool. The worker process parses its
// configuration here, once, at boot.

import { loadConfig } from '@roster/config';
import { type Pool, type PoolClient, withTenant } from '@roster/db';
import { ExecutorRegistry, StepFailure } from '@roster/engine';
import { createPersonalDataVault, governConnectorExecutor } from '@roster/governance';
import { createDecisionExecutor } from '@roster/inference';
import {
  createConnectorExecutor,
  createEgressPolicy,
  createHttpEgress,
  createLocalKeyProvider,
  createPluginPool,
  createPostgresKv,
  loadOrCreateLocalMasterKey,
} from '@roster/plugin-host';
import { governanceDefaults } from '../governance-defaults.js';
import type { WorkerExecutors } from './executor-module.js';
import { sealingEngineOptions, withPersonalData } from './personal-data-executors.js';

export default async function rosterExecutors({
  appUrl,
  createPool,
}: {
  appUrl: string;
  createPool: (url: string) => Pool;
}): Promise<WorkerExecutors> {
  const config = loadConfig(process.env);
  const masterKey =
    config.ROSTER_MASTER_KEY ?? (await loadOrCreateLocalMasterKey(config.ROSTER_HOME));
  const keyProvider = createLocalKeyProvider({
    masterKey,
    previousMasterKeys: config.ROSTER_MASTER_KEYS_PREVIOUS,
  });
  const plugins = createPluginPool({
    capabilities: {
      http: createHttpEgress({
        policy: createEgressPolicy({ allow: config.ROSTER_PLUGIN_EGRESS_ALLOW }),
      }),
    },
  });
  const pool = createPool(appUrl);
  // Checked at boot (an error names the path); tenants' saved overrides are read per step.
  const defaults = await governanceDefaults();
  const inTenant = <T>(tenantId: string, fn: (client: PoolClient) => Promise<T>) =>
    withTenant(pool, tenantId, ({ client }) => fn(client));
  const registry = new ExecutorRegistry()
    .registerDecision(createDecisionExecutor(pool, { defaults }))
    .registerConnector(
      // Approvals the policy asks for, and redacted input for connectors it marks external.
      governConnectorExecutor(
        createConnectorExecutor({
          inTenant,
          keyProvider,
          // Installations granted `kv` get their own state in plugin_kv (bound per invocation).
          kvFor: ({ tenantId, installationId }) =>
            createPostgresKv({ inTenant, tenantId, installationId }),
          invoker: plugins,
          toStepError: (error, fatal) => new StepFailure(error.code, error.message, { fatal }),
        }),
        { pool, defaults },
      ),
    );
  // Sealed personal data in run inputs is opened for the call; what the step returns is sealed,
  // and so are the inputs of runs this process starts (schedules, review escalations).
  const vault = createPersonalDataVault(keyProvider);
  return {
    executors: withPersonalData(registry, { pool, vault }),
    engine: sealingEngineOptions(vault),
  };
}
