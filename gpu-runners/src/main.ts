// The runner process: parse the configuration, start, and stop cleanly on SIGINT/SIGTERM
// (items it cannot finish come back to the pool when their leases expire).
//   node --import @swc-node/register/esm-register gpu-runners/src/main.ts --api-url URL --token-file FILE

import { hostname } from 'node:os';
import { parseRunnerArgs } from './config.js';
import { Runner } from './runner.js';
import { RunnerClient } from './runner-client.js';

const RUNNER_VERSION = '0.1.0';

async function main(): Promise<void> {
  const config = parseRunnerArgs(process.argv.slice(2));
  const log = (event: string, details?: Record<string, unknown>) =>
    console.error(JSON.stringify({ time: new Date().toISOString(), event, ...details }));
  const runner = new Runner({
    ...config,
    name: config.name === 'runner' ? `runner@${hostname()}` : config.name,
    version: RUNNER_VERSION,
    client: new RunnerClient({ baseUrl: config.apiUrl, poolToken: config.poolToken }),
    log,
  });
  await runner.start();
  log('started', {
    providers: config.providers,
    threads: config.threads,
    maxBatchSize: config.maxBatchSize,
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('stopping', { signal });
    runner.stop().then(
      () => process.exit(0),
      (e: Error) => {
        log('stop failed', { message: e.message });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: Error & { code?: string }) => {
  console.error(`runner: ${error.code ? `[${error.code}] ` : ''}${error.message}`);
  process.exit(1);
});
