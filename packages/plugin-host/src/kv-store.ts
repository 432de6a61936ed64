import { PluginHostError } from './errors.js';
import type { HostCallInfo, KvCapability } from './host-bridge.js';
import type { InTenant, SqlClient } from './secrets/connection-vault.js';

export interface KvLimits {
  /** Longest key, in characters. Default 256. */
  readonly maxKeyLength?: number;
  /** Largest value, as UTF-8 JSON. Default 64 KiB. */
  readonly maxValueBytes?: number;
  /** Live keys one installation may hold. Default 10 000. */
  readonly maxKeys?: number;
}

export interface PostgresKvOptions {
  /** One transaction under the tenant's RLS context (e.g. withTenant from @roster/db). */
  readonly inTenant: InTenant;
  readonly tenantId: string;
  readonly installationId: string;
  readonly limits?: KvLimits;
  /** Default: the database's now(); tests pass a clock to expire keys. */
  readonly now?: () => Date;
}

export const DEFAULT_KV_LIMITS: Required<KvLimits> = {
  maxKeyLength: 256,
  maxValueBytes: 64 * 1024,
  maxKeys: 10_000,
};

/** Longest ttl a key may ask for (a year): longer-lived state needs no ttl. */
const MAX_TTL_SECONDS = 365 * 24 * 3600;

/** Advisory lock namespace for an installation's key count ('kvin'). */
const LOCK_NAMESPACE = 0x6b76696e;

/**
 * The `kv` capability of ONE installation, stored in plugin_kv. The tenant and installation are
 * bound here, by the host, and every statement names both under the tenant's RLS context: a key
 * is only ever a value in the (tenant, installation, key) primary key, so no key string can reach
 * another installation's or tenant's rows. A call whose info names another installation is
 * refused (it would mean the host wired the wrong capability).
 */
export function createPostgresKv(options: PostgresKvOptions): KvCapability {
  const limits = { ...DEFAULT_KV_LIMITS, ...options.limits };
  const { tenantId, installationId } = options;
  const clock = options.now;

  const checkCall = (call: HostCallInfo) => {
    if (call.installationId !== undefined && call.installationId !== installationId) {
      throw new PluginHostError(
        'FORBIDDEN',
        'kv is bound to the invoking installation only; another installation cannot be named.',
      );
    }
  };
  const checkKey = (key: unknown): string => {
    if (typeof key !== 'string' || key.length === 0 || key.length > limits.maxKeyLength) {
      throw new PluginHostError(
        'KV_KEY_INVALID',
        `kv keys are non-empty strings of at most ${limits.maxKeyLength} characters; shorten the key (hash long ones).`,
        { maxKeyLength: limits.maxKeyLength },
      );
    }
    return key;
  };
  const run = <T>(fn: (client: SqlClient, now: Date | null) => Promise<T>) =>
    options.inTenant(tenantId, (client) => fn(client, clock ? clock() : null));
  // Live rows: no expiry, or an expiry after now ($n is the clock or null for the database's).
  const live = (param: string) => `(expires_at IS NULL OR expires_at > coalesce(${param}, now()))`;

  return {
    async get(key, call) {
      checkCall(call);
      const k = checkKey(key);
      return run(async (client, now) => {
        const { rows } = await client.query<{ value: unknown }>(
          `SELECT value FROM plugin_kv
            WHERE tenant_id = $1 AND installation_id = $2 AND key = $3 AND ${live('$4::timestamptz')}`,
          [tenantId, installationId, k, now],
        );
        return rows[0]?.value ?? null;
      });
    },

    async set(key, value, ttlSeconds, call) {
      checkCall(call);
      const k = checkKey(key);
      const json = value === undefined ? undefined : JSON.stringify(value);
      if (json === undefined) {
        throw new PluginHostError(
          'KV_VALUE_INVALID',
          'kv.set needs a JSON value (use kv.delete to remove a key).',
        );
      }
      const bytes = Buffer.byteLength(json, 'utf8');
      if (bytes > limits.maxValueBytes) {
        throw new PluginHostError(
          'KV_VALUE_INVALID',
          `kv values are at most ${limits.maxValueBytes} bytes as JSON (this one is ${bytes}); store less or split it.`,
          { maxValueBytes: limits.maxValueBytes, bytes },
        );
      }
      if (
        ttlSeconds !== undefined &&
        !(Number.isFinite(ttlSeconds) && ttlSeconds > 0 && ttlSeconds <= MAX_TTL_SECONDS)
      ) {
        throw new PluginHostError(
          'KV_VALUE_INVALID',
          `ttlSeconds must be a positive number of at most ${MAX_TTL_SECONDS}.`,
        );
      }
      await run(async (client, now) => {
        // Counting and inserting a new key under one lock keeps concurrent sets within the quota.
        await client.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))', [
          LOCK_NAMESPACE,
          `${tenantId}/${installationId}`,
        ]);
        const { rows } = await client.query<{ present: boolean; live_keys: number }>(
          `SELECT EXISTS (SELECT 1 FROM plugin_kv WHERE tenant_id = $1 AND installation_id = $2
                            AND key = $3 AND ${live('$4::timestamptz')}) AS present,
                  (SELECT count(*)::int FROM plugin_kv WHERE tenant_id = $1 AND installation_id = $2
                            AND ${live('$4::timestamptz')}) AS live_keys`,
          [tenantId, installationId, k, now],
        );
        const state = rows[0]!;
        if (!state.present && state.live_keys >= limits.maxKeys) {
          throw new PluginHostError(
            'KV_QUOTA_EXCEEDED',
            `This installation already holds ${limits.maxKeys} kv keys; delete some (or give them a ttl) first.`,
            { maxKeys: limits.maxKeys },
          );
        }
        await client.query(
          `INSERT INTO plugin_kv (tenant_id, installation_id, key, value, expires_at, updated_at)
           VALUES ($1, $2, $3, $4::jsonb, coalesce($6::timestamptz, now()) + make_interval(secs => $5::float8),
                   coalesce($6::timestamptz, now()))
           ON CONFLICT (tenant_id, installation_id, key)
           DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at`,
          [tenantId, installationId, k, json, ttlSeconds ?? null, now],
        );
        if (!state.present) {
          // A new key: drop this installation's expired rows so they stop taking space.
          await client.query(
            `DELETE FROM plugin_kv WHERE tenant_id = $1 AND installation_id = $2
                AND expires_at <= coalesce($3::timestamptz, now())`,
            [tenantId, installationId, now],
          );
        }
      });
    },

    async delete(key, call) {
      checkCall(call);
      const k = checkKey(key);
      await run((client) =>
        client.query(
          'DELETE FROM plugin_kv WHERE tenant_id = $1 AND installation_id = $2 AND key = $3',
          [tenantId, installationId, k],
        ),
      );
    },

    async list(prefix, call) {
      checkCall(call);
      if (typeof prefix !== 'string' || prefix.length > limits.maxKeyLength) {
        throw new PluginHostError(
          'KV_KEY_INVALID',
          `kv.list takes a prefix of at most ${limits.maxKeyLength} characters.`,
        );
      }
      return run(async (client, now) => {
        // starts_with, not LIKE: '%' and '_' in a prefix are plain characters.
        const { rows } = await client.query<{ key: string }>(
          `SELECT key FROM plugin_kv
            WHERE tenant_id = $1 AND installation_id = $2 AND starts_with(key, $3)
              AND ${live('$4::timestamptz')}
            ORDER BY key COLLATE "C" LIMIT $5`,
          [tenantId, installationId, prefix, now, limits.maxKeys],
        );
        return rows.map((r) => r.key);
      });
    },
  };
}
