import type { Pool, PoolOptions } from '@roster/db';
import { ExecutorRegistry } from '@roster/engine';
import { recordLedgerCall } from './fixtures.js';

/** Executor module for worker processes in tests: every connector call goes to the ledger. */
export default function ledgerExecutors({
  appUrl,
  createPool,
}: {
  appUrl: string;
  createPool: (url: string, options?: PoolOptions) => Pool;
}): ExecutorRegistry {
  const pool = createPool(appUrl, { max: 4, applicationName: 'ledger' });
  return new ExecutorRegistry().registerConnector(async (call) => {
    await recordLedgerCall(pool, call);
    return { output: { step: call.stepId } };
  });
}
