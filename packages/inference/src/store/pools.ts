// Runner pools and runners. A pool belongs to one tenant; its token is stored as a sha-256 hash
// and resolved through auth_runner_pool (SECURITY DEFINER, docs/decisions/0006), so a runner
// never names its tenant and never holds database credentials.

import { createHash, randomBytes } from 'node:crypto';
import { type Pool, withTenant } from '@roster/db';
import { InferenceError } from '../errors.js';
import type {
  ExecutionProvider,
  HeartbeatRequest,
  PoolSettings,
  RegisterRequest,
} from '../runner-protocol.js';

export interface RunnerPoolRow {
  id: string;
  name: string;
  providers: ExecutionProvider[];
  maxBatch: number;
  maxQueueDelayMs: number;
  createdAt: Date;
}

/** Who a pool token belongs to. */
export interface PoolIdentity {
  tenantId: string;
  poolId: string;
  settings: PoolSettings;
}

/** How often runners heartbeat; a runner silent for 3 intervals has lost its leases. */
export const HEARTBEAT_INTERVAL_MS = 2000;
export const RUNNER_STALE_AFTER_MS = 3 * HEARTBEAT_INTERVAL_MS;

const POOL_COLUMNS = `id, name, providers, max_batch AS "maxBatch", max_queue_delay_ms AS "maxQueueDelayMs", created_at AS "createdAt"`;
const PROVIDERS = new Set(['webgpu', 'cuda', 'cpu']);

/** A fresh pool token: `rp_` and 32 random bytes. */
export function newPoolToken(): string {
  return `rp_${randomBytes(32).toString('base64url')}`;
}

export function hashPoolToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface CreateRunnerPoolInput {
  name: string;
  /** Execution providers in preference order. Default ['cpu']. */
  providers?: ExecutionProvider[];
  /** Default 64. */
  maxBatch?: number;
  /** Default 2. */
  maxQueueDelayMs?: number;
  /**
   * The token to use instead of a random one: only for a local seed that keeps its token on
   * disk (`roster up`). Default: 32 random bytes.
   */
  token?: string;
}

/** Creates a pool and returns its token: the only time the token is readable. */
export async function createRunnerPool(
  pool: Pool,
  tenantId: string,
  input: CreateRunnerPoolInput,
): Promise<{ pool: RunnerPoolRow; token: string }> {
  if (!/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/.test(input.name)) {
    throw new InferenceError(
      'INPUT_INVALID',
      'A pool name is 1 to 100 letters, digits, spaces, dots, dashes or underscores.',
      { field: 'name' },
    );
  }
  const providers = input.providers ?? ['cpu'];
  if (providers.length === 0 || providers.some((p) => !PROVIDERS.has(p))) {
    throw new InferenceError(
      'INPUT_INVALID',
      "Providers must list one or more of 'webgpu', 'cuda', 'cpu' in preference order.",
      { field: 'providers' },
    );
  }
  const maxBatch = input.maxBatch ?? 64;
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > 10_000) {
    throw new InferenceError('INPUT_INVALID', 'maxBatch must be a whole number from 1 to 10000.', {
      field: 'maxBatch',
    });
  }
  const token = input.token ?? newPoolToken();
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<RunnerPoolRow>(
      `INSERT INTO runner_pools (tenant_id, name, token_hash, providers, max_batch, max_queue_delay_ms)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id, name) DO NOTHING RETURNING ${POOL_COLUMNS}`,
      [tenantId, input.name, hashPoolToken(token), providers, maxBatch, input.maxQueueDelayMs ?? 2],
    );
    if (!rows[0]) {
      throw new InferenceError('CONFLICT', `A runner pool named '${input.name}' already exists.`, {
        field: 'name',
      });
    }
    await client.query(
      `INSERT INTO audit_events (tenant_id, kind, data, subject_type, subject_id)
       VALUES ($1, 'runner_pool.created', $2, 'RunnerPool', $3)`,
      [tenantId, { name: input.name }, rows[0].id],
    );
    return { pool: rows[0], token };
  });
}

export async function listRunnerPools(pool: Pool, tenantId: string): Promise<RunnerPoolRow[]> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<RunnerPoolRow>(
      `SELECT ${POOL_COLUMNS} FROM runner_pools WHERE tenant_id = $1 ORDER BY created_at, id`,
      [tenantId],
    );
    return rows;
  });
}

export async function getRunnerPool(
  pool: Pool,
  tenantId: string,
  poolId: string,
): Promise<RunnerPoolRow | undefined> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<RunnerPoolRow>(
      `SELECT ${POOL_COLUMNS} FROM runner_pools WHERE tenant_id = $1 AND id = $2`,
      [tenantId, poolId],
    );
    return rows[0];
  });
}

/** The tenant and pool of `token`, or UNAUTHORIZED. No tenant context is needed or trusted. */
export async function resolvePoolToken(pool: Pool, token: string): Promise<PoolIdentity> {
  const { rows } = await pool.query<{
    tenant_id: string;
    pool_id: string;
    providers: ExecutionProvider[];
    max_batch: number;
    max_queue_delay_ms: number;
  }>('SELECT * FROM auth_runner_pool($1)', [hashPoolToken(token)]);
  const row = rows[0];
  if (!row) {
    throw new InferenceError(
      'UNAUTHORIZED',
      'The pool token is not known: copy the token shown when the pool was created (create a new pool if it is lost).',
    );
  }
  return {
    tenantId: row.tenant_id,
    poolId: row.pool_id,
    settings: {
      providers: row.providers,
      maxBatchSize: row.max_batch,
      maxQueueDelayMs: row.max_queue_delay_ms,
    },
  };
}

export async function registerRunner(
  pool: Pool,
  who: PoolIdentity,
  body: RegisterRequest,
): Promise<{ runnerId: string }> {
  return withTenant(pool, who.tenantId, async ({ client }) => {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO runners (tenant_id, pool_id, name, version, capabilities)
       VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [who.tenantId, who.poolId, body.name, body.version, body.capabilities],
    );
    return { runnerId: rows[0]!.id };
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** UNAUTHORIZED (register again) unless `runnerId` is a live runner of this pool. */
export function unknownRunner(runnerId: string): InferenceError {
  return new InferenceError(
    'UNAUTHORIZED',
    `Runner ${runnerId} is not registered in this pool (or was forgotten): register again.`,
    { reason: 'RUNNER_UNKNOWN' },
  );
}

export async function heartbeatRunner(
  pool: Pool,
  who: PoolIdentity,
  body: HeartbeatRequest,
): Promise<{ drain: boolean }> {
  if (!UUID.test(body.runnerId)) throw unknownRunner(body.runnerId);
  return withTenant(pool, who.tenantId, async ({ client }) => {
    const { rows } = await client.query<{ drain: boolean }>(
      `UPDATE runners SET last_heartbeat_at = now(), in_flight = $4, loaded_models = $5
        WHERE tenant_id = $1 AND pool_id = $2 AND id = $3 RETURNING drain`,
      [who.tenantId, who.poolId, body.runnerId, body.inFlight, body.loadedModels],
    );
    if (!rows[0]) throw unknownRunner(body.runnerId);
    return { drain: rows[0].drain };
  });
}

export function isRunnerId(id: string): boolean {
  return UUID.test(id);
}
