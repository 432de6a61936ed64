// The model registry: versions of a tenant's models, their bytes stored once per tenant by
// sha-256 (model_blobs), their signature read with onnxruntime at upload, labels, featurizer
// spec and evaluation metrics. Writes and reads take the pool and the tenant explicitly.

import { type Pool, withTenant } from '@roster/db';
import { InferenceError } from '../errors.js';
import { validateFeaturizerSpec } from '../featurizer.js';
import { inspectOnnxModel } from '../model-inspect.js';
import {
  checkFeaturizerCompatibility,
  type FeaturizerSpec,
  type ModelSignature,
} from '../model-signature.js';

/** Largest model file the registry takes: 64 MiB (runners load it whole). */
export const MAX_MODEL_BYTES = 64 * 1024 * 1024;

const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;

export interface RegisterModelVersionInput {
  /** The model's name (created on first upload), e.g. `email-triage`. */
  model: string;
  bytes: Uint8Array;
  /** One name per output column, in order. */
  labels: string[];
  featurizer: FeaturizerSpec;
  /** Evaluation metrics (accuracy, AUC, ...), stored as given. Default {}. */
  metrics?: Record<string, unknown>;
  createdBy?: string | null;
}

export interface ModelRow {
  id: string;
  name: string;
  description: string;
  createdAt: Date;
}

export interface ModelVersionRow {
  id: string;
  modelId: string;
  modelName: string;
  version: number;
  sha256: string;
  size: number;
  signature: ModelSignature;
  labels: string[];
  featurizer: FeaturizerSpec;
  metrics: Record<string, unknown>;
  status: 'active' | 'archived';
  createdAt: Date;
}

export const VERSION_COLUMNS = `v.id, v.model_id AS "modelId", m.name AS "modelName", v.version,
  v.sha256, v.size, v.signature, v.labels, v.featurizer, v.metrics, v.status, v.created_at AS "createdAt"`;

function checkInput(input: RegisterModelVersionInput): void {
  if (!MODEL_NAME.test(input.model)) {
    throw new InferenceError(
      'INPUT_INVALID',
      `Model name '${input.model}' is not allowed: use 1 to 100 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.`,
      { field: 'model' },
    );
  }
  if (input.bytes.length > MAX_MODEL_BYTES) {
    throw new InferenceError(
      'INPUT_INVALID',
      `The model file is ${input.bytes.length} bytes; the registry takes at most ${MAX_MODEL_BYTES}.`,
      { field: 'bytes' },
    );
  }
  const labels = input.labels;
  if (
    labels.length === 0 ||
    labels.some((l) => typeof l !== 'string' || l.length === 0 || l.length > 100) ||
    new Set(labels).size !== labels.length
  ) {
    throw new InferenceError(
      'INPUT_INVALID',
      'Labels must be one or more distinct non-empty names (up to 100 characters), one per output column in order.',
      { field: 'labels' },
    );
  }
}

/**
 * Registers a new version of `input.model`: refuses a file onnxruntime cannot load
 * (INVALID_MODEL) and one whose signature does not fit its featurizer and labels
 * (MODEL_SIGNATURE_MISMATCH), then stores bytes (deduplicated by sha-256) and metadata.
 */
export async function registerModelVersion(
  pool: Pool,
  tenantId: string,
  input: RegisterModelVersionInput,
): Promise<ModelVersionRow> {
  checkInput(input);
  if (input.featurizer?.kind !== 'dense') validateFeaturizerSpec(input.featurizer);
  const signature = await inspectOnnxModel(input.bytes);
  checkFeaturizerCompatibility(signature, input.featurizer, input.labels);
  return withTenant(pool, tenantId, async ({ client }) => {
    await client.query(
      `INSERT INTO models (tenant_id, name) VALUES ($1, $2) ON CONFLICT (tenant_id, name) DO NOTHING`,
      [tenantId, input.model],
    );
    const { rows: models } = await client.query<{ id: string }>(
      'SELECT id FROM models WHERE tenant_id = $1 AND name = $2 FOR UPDATE',
      [tenantId, input.model],
    );
    const modelId = models[0]!.id;
    await client.query(
      `INSERT INTO model_blobs (tenant_id, sha256, bytes, size) VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id, sha256) DO NOTHING`,
      [tenantId, signature.sha256, Buffer.from(input.bytes), input.bytes.length],
    );
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO model_versions (tenant_id, model_id, version, sha256, size, signature, labels, featurizer, metrics, created_by)
       SELECT $1, $2, coalesce(max(version), 0) + 1, $3, $4, $5, $6, $7, $8, $9
         FROM model_versions WHERE tenant_id = $1 AND model_id = $2
       RETURNING id`,
      [
        tenantId,
        modelId,
        signature.sha256,
        input.bytes.length,
        signature,
        input.labels,
        input.featurizer,
        input.metrics ?? {},
        input.createdBy ?? null,
      ],
    );
    await client.query(
      `INSERT INTO audit_events (tenant_id, kind, data, subject_type, subject_id)
       VALUES ($1, 'model_version.registered', $2, 'ModelVersion', $3)`,
      [tenantId, { model: input.model, sha256: signature.sha256 }, rows[0]!.id],
    );
    return (await versionById(client, tenantId, rows[0]!.id))!;
  });
}

type Queryable = Pick<import('@roster/db').PoolClient, 'query'>;

export async function versionById(
  client: Queryable,
  tenantId: string,
  versionId: string,
): Promise<ModelVersionRow | undefined> {
  const { rows } = await client.query<ModelVersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM model_versions v JOIN models m ON m.tenant_id = v.tenant_id AND m.id = v.model_id
      WHERE v.tenant_id = $1 AND v.id = $2`,
    [tenantId, versionId],
  );
  return rows[0];
}

/** The model named `name`, or NOT_FOUND. */
export async function modelByName(
  client: Queryable,
  tenantId: string,
  name: string,
): Promise<ModelRow> {
  const { rows } = await client.query<ModelRow>(
    `SELECT id, name, description, created_at AS "createdAt" FROM models WHERE tenant_id = $1 AND name = $2`,
    [tenantId, name],
  );
  if (!rows[0]) {
    throw new InferenceError(
      'NOT_FOUND',
      `Model '${name}' does not exist in this tenant: register a version of it first (roster model register).`,
      { model: name },
    );
  }
  return rows[0];
}

/** A page of models in (created_at, id) order after `after`. */
export async function listModels(
  pool: Pool,
  tenantId: string,
  page: { limit: number; after: { createdAt: Date; id: string } | null },
): Promise<ModelRow[]> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<ModelRow>(
      `SELECT id, name, description, created_at AS "createdAt" FROM models
        WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::uuid))
        ORDER BY created_at, id LIMIT $4`,
      [tenantId, page.after?.createdAt ?? null, page.after?.id ?? null, page.limit + 1],
    );
    return rows;
  });
}

export async function listModelVersions(
  pool: Pool,
  tenantId: string,
  modelId: string,
  page: { limit: number; after: { createdAt: Date; id: string } | null },
): Promise<ModelVersionRow[]> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<ModelVersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM model_versions v JOIN models m ON m.tenant_id = v.tenant_id AND m.id = v.model_id
        WHERE v.tenant_id = $1 AND v.model_id = $2
          AND ($3::timestamptz IS NULL OR (v.created_at, v.id) > ($3, $4::uuid))
        ORDER BY v.created_at, v.id LIMIT $5`,
      [tenantId, modelId, page.after?.createdAt ?? null, page.after?.id ?? null, page.limit + 1],
    );
    return rows;
  });
}

export async function getModel(
  pool: Pool,
  tenantId: string,
  modelId: string,
): Promise<ModelRow | undefined> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<ModelRow>(
      `SELECT id, name, description, created_at AS "createdAt" FROM models WHERE tenant_id = $1 AND id = $2`,
      [tenantId, modelId],
    );
    return rows[0];
  });
}

export async function getModelVersion(
  pool: Pool,
  tenantId: string,
  versionId: string,
): Promise<ModelVersionRow | undefined> {
  return withTenant(pool, tenantId, ({ client }) => versionById(client, tenantId, versionId));
}

/** The bytes and manifest of a model file of this tenant, by sha-256 (undefined when absent). */
export async function modelFile(
  pool: Pool,
  tenantId: string,
  sha256: string,
): Promise<{ bytes: Buffer; labels: string[]; featurizer: FeaturizerSpec } | undefined> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<{
      bytes: Buffer;
      labels: string[];
      featurizer: FeaturizerSpec;
    }>(
      `SELECT b.bytes, v.labels, v.featurizer FROM model_blobs b
         JOIN model_versions v ON v.tenant_id = b.tenant_id AND v.sha256 = b.sha256
        WHERE b.tenant_id = $1 AND b.sha256 = $2 ORDER BY v.created_at DESC LIMIT 1`,
      [tenantId, sha256],
    );
    return rows[0];
  });
}
