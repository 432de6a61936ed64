import type { Pool, PoolOptions } from '@roster/db';
import { ExecutorRegistry } from '@roster/engine';
import { createPersonalDataVault } from '@roster/governance';
import { createLocalKeyProvider } from '@roster/plugin-host';
import type { WorkerExecutors } from '../src/executors/executor-module.js';
import {
  sealingEngineOptions,
  withPersonalData,
} from '../src/executors/personal-data-executors.js';

/** The master key of this test module's vault (test data only): the test opens tokens with it. */
export const SEALING_TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

/**
 * Executor module for worker processes in tests, shaped like roster-executors: personal data is
 * opened for connector calls and sealed in the inputs of runs the process starts. The connector
 * answers with the domain of `input.to`, which only the plaintext address has.
 */
export default function sealingExecutors({
  appUrl,
  createPool,
}: {
  appUrl: string;
  createPool: (url: string, options?: PoolOptions) => Pool;
}): WorkerExecutors {
  const pool = createPool(appUrl, { max: 2, applicationName: 'sealing' });
  const vault = createPersonalDataVault(
    createLocalKeyProvider({ masterKey: SEALING_TEST_MASTER_KEY }),
  );
  const inner = new ExecutorRegistry().registerConnector(async (call) => {
    const to = String((call.input as { to?: unknown } | undefined)?.to ?? '');
    return { output: { domain: to.split('@')[1] ?? null } };
  });
  return {
    executors: withPersonalData(inner, { pool, vault }),
    engine: sealingEngineOptions(vault),
  };
}
