// The runner's configuration: one schema, parsed once at start from the command line and an
// optional JSON file (nothing reads process.env). The pool's settings from `register`
// (providers, batch size, queue delay) override these local defaults.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { executionProviderSchema } from '@roster/inference';
import { z } from 'zod';
import { RunnerError } from './errors.js';

export const runnerConfigSchema = z.object({
  /** The Roster API base URL (the runner calls `<apiUrl>/runner/v1/...`). */
  apiUrl: z.url(),
  /** The pool token (read from `poolTokenFile` on the command line, never passed as an argument). */
  poolToken: z.string().min(1),
  name: z.string().min(1).default('runner'),
  providers: z.array(executionProviderSchema).min(1).default(['cpu']),
  fallbackToCpu: z.boolean().default(false),
  threads: z.number().int().positive().default(1),
  intraOpNumThreads: z.number().int().positive().optional(),
  allowSpinning: z.boolean().default(false),
  maxBatchSize: z.number().int().positive().default(64),
  maxQueueDelayMs: z.number().nonnegative().default(2),
  leaseSeconds: z.number().int().positive().default(60),
  claimWaitMs: z.number().int().nonnegative().max(30_000).default(1000),
});
export type RunnerConfig = z.infer<typeof runnerConfigSchema>;

export const usage = `Usage: node --import @swc-node/register/esm-register gpu-runners/src/main.ts [options]
  --config FILE            JSON file with any of the options below (camelCase keys); flags win
  --api-url URL            Roster API base URL (required)
  --token-file FILE        file holding the pool token (required; or poolToken in --config)
  --name NAME              runner name shown in the portal (default: runner)
  --providers LIST         execution providers in preference order: webgpu,cuda,cpu (default: cpu)
  --fallback-to-cpu        run on the CPU when none of the providers starts (default: off)
  --threads N              session worker threads per model (default: 1)
  --intra-op-threads N     onnxruntime threads per session (default: onnxruntime's, one per core)
  --spin                   let idle onnxruntime threads spin (default: off; frees cores for the runner)
  --max-batch N            most items per batch (default: 64)
  --queue-delay-ms MS      longest an item waits for a batch (default: 2)
  --lease-seconds S        lease asked for claimed items (default: 60)
  --claim-wait-ms MS       how long a claim may wait on the server (default: 1000)`;

/** Parses argv (without node and script) into a config; throws CONFIG_INVALID with the problems. */
export function parseRunnerArgs(argv: string[]): RunnerConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      'api-url': { type: 'string' },
      'token-file': { type: 'string' },
      name: { type: 'string' },
      providers: { type: 'string' },
      'fallback-to-cpu': { type: 'boolean' },
      threads: { type: 'string' },
      'intra-op-threads': { type: 'string' },
      spin: { type: 'boolean' },
      'max-batch': { type: 'string' },
      'queue-delay-ms': { type: 'string' },
      'lease-seconds': { type: 'string' },
      'claim-wait-ms': { type: 'string' },
    },
    strict: true,
  });
  const file: Record<string, unknown> = values.config
    ? JSON.parse(readFileSync(values.config, 'utf8'))
    : {};
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const flags = {
    apiUrl: values['api-url'],
    poolToken: values['token-file'] ? readFileSync(values['token-file'], 'utf8').trim() : undefined,
    name: values.name,
    providers: values.providers?.split(',').map((p) => p.trim()),
    fallbackToCpu: values['fallback-to-cpu'],
    threads: num(values.threads),
    intraOpNumThreads: num(values['intra-op-threads']),
    allowSpinning: values.spin,
    maxBatchSize: num(values['max-batch']),
    maxQueueDelayMs: num(values['queue-delay-ms']),
    leaseSeconds: num(values['lease-seconds']),
    claimWaitMs: num(values['claim-wait-ms']),
  };
  const merged = {
    ...file,
    ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)),
  };
  const parsed = runnerConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.join('.') || 'config'}: ${i.message}`,
    );
    throw new RunnerError(
      'CONFIG_INVALID',
      `Runner configuration is invalid: ${problems.join('; ')}.\n${usage}`,
      {
        problems,
      },
    );
  }
  return parsed.data;
}
