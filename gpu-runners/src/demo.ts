// The demo tenant's inference for `roster up`: the trained email-triage model (committed under
// models/email-triage/out, 1 MiB), a seed that makes it serve from a CPU pool, and one CPU runner.

import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Pool } from '@roster/db';
import {
  ensureModelServing,
  type FeaturizerSpec,
  readOnnxMetadata,
  type Serving,
  setDecisionPolicy,
} from '@roster/inference';
import { RunnerError } from './errors.js';
import { Runner } from './runner.js';
import { RunnerClient } from './runner-client.js';

export const DEMO_MODEL_NAME = 'email-triage';
export const DEMO_POOL_NAME = 'demo-cpu';
export const DEMO_MODEL_FILE = fileURLToPath(
  new URL('../models/email-triage/out/model.onnx', import.meta.url),
);
const DEMO_METRICS_FILE = fileURLToPath(
  new URL('../models/email-triage/out/metrics.json', import.meta.url),
);

export interface DemoModel {
  bytes: Uint8Array;
  labels: string[];
  featurizer: FeaturizerSpec;
  /** Holdout figures of the training run. */
  metrics: Record<string, unknown>;
  /** The review threshold chosen by cross-validation at training time. */
  threshold: number;
}

/** Reads the demo model and its training metrics (labels and featurizer come from the file). */
export async function loadDemoModel(file = DEMO_MODEL_FILE): Promise<DemoModel> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (cause) {
    throw new RunnerError(
      'CONFIG_INVALID',
      `The demo model ${file} is missing: train it with \`node --import @swc-node/register/esm-register gpu-runners/models/email-triage/train.ts\`.`,
      { file },
      { cause },
    );
  }
  const { labels, featurizer } = readOnnxMetadata(bytes);
  const trained = JSON.parse(await readFile(DEMO_METRICS_FILE, 'utf8').catch(() => '{}')) as {
    holdout?: Record<string, unknown>;
    crossValidation?: Record<string, unknown>;
    threshold?: number;
  };
  return {
    bytes,
    labels,
    featurizer,
    metrics: {
      ...(trained.holdout ? { holdout: trained.holdout } : {}),
      ...(trained.crossValidation ? { crossValidation: trained.crossValidation } : {}),
    },
    threshold: trained.threshold ?? 0.9,
  };
}

/**
 * Makes the demo model serve for `tenantId` from the pool `demo-cpu` whose token is `poolToken`
 * (the caller keeps it, e.g. under ROSTER_HOME). Idempotent; on the first seed it also sets the
 * tenant's review threshold to the one chosen at training time.
 */
export async function seedDemoInference(
  appPool: Pool,
  tenantId: string,
  options: { poolToken: string; model?: DemoModel },
): Promise<Serving> {
  const model = options.model ?? (await loadDemoModel());
  const serving = await ensureModelServing(appPool, tenantId, {
    model: DEMO_MODEL_NAME,
    bytes: model.bytes,
    labels: model.labels,
    featurizer: model.featurizer,
    metrics: model.metrics,
    poolName: DEMO_POOL_NAME,
    poolToken: options.poolToken,
  });
  if (serving.created.includes('modelVersion')) {
    await setDecisionPolicy(appPool, tenantId, { workflowId: null, default: model.threshold });
  }
  return serving;
}

/** One CPU runner for the demo pool, started (register, heartbeat, claim loops running). */
export async function startDemoRunner(options: {
  apiUrl: string;
  poolToken: string;
  log?: (event: string, details?: Record<string, unknown>) => void;
}): Promise<Runner> {
  const runner = new Runner({
    client: new RunnerClient({ baseUrl: options.apiUrl, poolToken: options.poolToken }),
    name: `demo-runner@${hostname()}`,
    version: '0.1.0',
    providers: ['cpu'],
    threads: 1,
    ...(options.log ? { log: options.log } : {}),
  });
  await runner.start();
  return runner;
}
