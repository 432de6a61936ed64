// `roster model register <file.onnx>`: registers a model version for a tenant straight into the
// database (the operator's path for files larger than the GraphQL body limit). The tenant is
// found by slug with the owner connection; the registration runs as roster_app in the tenant's
// RLS context, through the same service as the API.

import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Config } from '@roster/config';
import { createPool, openDatabase } from '@roster/db';
import {
  type FeaturizerSpec,
  InferenceError,
  inspectOnnxModel,
  type ModelVersionRow,
  readOnnxMetadata,
  registerModelVersion,
} from '@roster/inference';

export interface RegisterModelOptions {
  tenant: string;
  /** Model name; default: the file name without `.onnx`. */
  name?: string;
  /** Comma-separated labels; default: the file's `roster.labels` metadata. */
  labels?: string;
  /** JSON file with the featurizer spec; default: the file's `roster.featurizer` metadata. */
  featurizer?: string;
  /** JSON file with evaluation metrics. Default none. */
  metrics?: string;
}

export class ModelCommandError extends Error {
  constructor(
    readonly code: 'USAGE' | 'TENANT_NOT_FOUND',
    message: string,
  ) {
    super(message);
  }
}

async function readJson(file: string, what: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new ModelCommandError(
      'USAGE',
      `Could not read the ${what} JSON file ${file}: ${(cause as Error).message}`,
    );
  }
}

/** Labels and featurizer from the flags, else from the model's own metadata. */
async function describeModel(bytes: Uint8Array, options: RegisterModelOptions) {
  let embedded: { labels: string[]; featurizer: FeaturizerSpec } | undefined;
  const fromFile = () => {
    try {
      embedded ??= readOnnxMetadata(bytes);
      return embedded;
    } catch (cause) {
      if (cause instanceof InferenceError && cause.code === 'ONNX_METADATA_MISSING') {
        throw new ModelCommandError(
          'USAGE',
          'The model carries no roster.labels / roster.featurizer metadata: pass --labels and --featurizer.',
        );
      }
      throw cause;
    }
  };
  const labels = options.labels
    ? options.labels.split(',').map((l) => l.trim())
    : fromFile().labels;
  const featurizer = options.featurizer
    ? ((await readJson(options.featurizer, 'featurizer')) as unknown as FeaturizerSpec)
    : fromFile().featurizer;
  return { labels, featurizer };
}

export async function registerModelCommand(
  config: Config,
  file: string,
  options: RegisterModelOptions,
  say: (line: string) => void,
): Promise<ModelVersionRow> {
  const bytes = new Uint8Array(await readFile(file));
  // Refuse a file onnxruntime cannot load before reading metadata from it or opening Postgres.
  await inspectOnnxModel(bytes);
  const database = await openDatabase(config);
  const owner = createPool(database.ownerUrl, { max: 1, applicationName: 'roster-cli' });
  const app = createPool(database.appUrl, { max: 2, applicationName: 'roster-cli' });
  try {
    const { rows } = await owner.query<{ id: string }>('SELECT id FROM tenants WHERE slug = $1', [
      options.tenant,
    ]);
    const tenantId = rows[0]?.id;
    if (!tenantId) {
      throw new ModelCommandError(
        'TENANT_NOT_FOUND',
        `No tenant has the slug '${options.tenant}': check --tenant (the demo tenant's slug is printed by roster up).`,
      );
    }
    const { labels, featurizer } = await describeModel(bytes, options);
    const version = await registerModelVersion(app, tenantId, {
      model: options.name ?? basename(file).replace(/\.onnx$/i, ''),
      bytes,
      labels,
      featurizer,
      metrics: options.metrics ? await readJson(options.metrics, 'metrics') : {},
    });
    say(
      `✓ Registered ${version.modelName} version ${version.version} (sha-256 ${version.sha256}, ${version.size} bytes, labels ${version.labels.join(', ')})`,
    );
    return version;
  } finally {
    await Promise.all([owner.end(), app.end()]);
    await database.stop();
  }
}
