import { randomBytes } from 'node:crypto';
import { PluginHostError } from '../errors.js';
import { open, type Sealed, seal } from './aes-gcm.js';
import type { KeyProvider } from './key-provider.js';

/** A pg client (or anything with its `query`), already inside the tenant's RLS transaction. */
export interface SqlClient {
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<{ rows: R[] }>;
}

/** Runs `fn` in one transaction under `tenantId`'s RLS context (e.g. @roster/db withTenant). */
export type InTenant = <T>(tenantId: string, fn: (client: SqlClient) => Promise<T>) => Promise<T>;

export interface SealedConnection extends Sealed {
  readonly keyVersion: number;
}

/** Largest secrets object, as JSON. */
const MAX_SECRETS_BYTES = 16 * 1024;

const connectionAad = (tenantId: string, connectionId: string, keyVersion: number) =>
  `roster-connection/v1|${tenantId}|${connectionId}|${keyVersion}`;

interface DataKeyRow extends Record<string, unknown> {
  key_version: number;
  wrapped_key: Buffer;
  master_key_id: string;
}

async function unwrapRow(provider: KeyProvider, tenantId: string, row: DataKeyRow) {
  const key = await provider.unwrap(
    { masterKeyId: row.master_key_id, wrapped: row.wrapped_key },
    { tenantId, keyVersion: row.key_version },
  );
  return { keyVersion: row.key_version, key };
}

async function insertDataKey(
  client: SqlClient,
  provider: KeyProvider,
  tenantId: string,
  keyVersion: number,
): Promise<boolean> {
  const dataKey = randomBytes(32);
  const wrapped = await provider.wrap(dataKey, { tenantId, keyVersion });
  const { rows } = await client.query(
    `INSERT INTO tenant_data_keys (tenant_id, key_version, wrapped_key, master_key_id)
     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING key_version`,
    [tenantId, keyVersion, wrapped.wrapped, wrapped.masterKeyId],
  );
  dataKey.fill(0);
  return rows.length === 1;
}

/** The tenant's newest data key, made (version 1) on first use. */
export async function currentDataKey(
  client: SqlClient,
  provider: KeyProvider,
  tenantId: string,
): Promise<{ keyVersion: number; key: Buffer }> {
  const newest = () =>
    client.query<DataKeyRow>(
      `SELECT key_version, wrapped_key, master_key_id FROM tenant_data_keys
        WHERE tenant_id = $1 ORDER BY key_version DESC LIMIT 1`,
      [tenantId],
    );
  let { rows } = await newest();
  if (rows.length === 0) {
    await insertDataKey(client, provider, tenantId, 1);
    ({ rows } = await newest());
  }
  return unwrapRow(provider, tenantId, rows[0] as DataKeyRow);
}

async function dataKeyVersion(
  client: SqlClient,
  provider: KeyProvider,
  tenantId: string,
  keyVersion: number,
) {
  const { rows } = await client.query<DataKeyRow>(
    `SELECT key_version, wrapped_key, master_key_id FROM tenant_data_keys
      WHERE tenant_id = $1 AND key_version = $2`,
    [tenantId, keyVersion],
  );
  if (!rows[0]) {
    throw new PluginHostError(
      'DATA_KEY_MISSING',
      `This tenant has no data key version ${keyVersion}; the connection cannot be decrypted. Re-create the connection.`,
      { keyVersion },
    );
  }
  return unwrapRow(provider, tenantId, rows[0]);
}

/** Checks the secrets' shape: a flat object of strings (never echoed in the error). */
export function checkSecrets(secrets: unknown): Record<string, string> {
  if (
    typeof secrets !== 'object' ||
    secrets === null ||
    Array.isArray(secrets) ||
    Object.values(secrets).some((v) => typeof v !== 'string')
  ) {
    throw new PluginHostError(
      'INPUT_INVALID',
      'Connection secrets must be an object whose values are strings, e.g. { "apiKey": "…" }.',
    );
  }
  if (Buffer.byteLength(JSON.stringify(secrets)) > MAX_SECRETS_BYTES) {
    throw new PluginHostError(
      'INPUT_INVALID',
      `Connection secrets may take at most ${MAX_SECRETS_BYTES} bytes as JSON.`,
    );
  }
  return secrets as Record<string, string>;
}

/** Encrypts a connection's secrets under the tenant's current data key. */
export async function sealConnectionSecrets(
  client: SqlClient,
  provider: KeyProvider,
  target: { tenantId: string; connectionId: string },
  secrets: Record<string, string>,
): Promise<SealedConnection> {
  const { keyVersion, key } = await currentDataKey(client, provider, target.tenantId);
  const plaintext = Buffer.from(JSON.stringify(checkSecrets(secrets)), 'utf8');
  const sealed = seal(
    key,
    plaintext,
    connectionAad(target.tenantId, target.connectionId, keyVersion),
  );
  plaintext.fill(0);
  key.fill(0);
  return { ...sealed, keyVersion };
}

/** Decrypts one connection for the invocation that needs it; the caller drops it afterwards. */
export async function openConnectionSecrets(
  client: SqlClient,
  provider: KeyProvider,
  target: { tenantId: string; connectionId: string },
  sealed: SealedConnection,
): Promise<Record<string, string>> {
  const { key } = await dataKeyVersion(client, provider, target.tenantId, sealed.keyVersion);
  const plaintext = open(
    key,
    sealed,
    connectionAad(target.tenantId, target.connectionId, sealed.keyVersion),
    'The connection',
  );
  key.fill(0);
  try {
    return JSON.parse(plaintext.toString('utf8')) as Record<string, string>;
  } finally {
    plaintext.fill(0);
  }
}

interface ConnectionRow extends Record<string, unknown> {
  id: string;
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
  key_version: number;
}

/**
 * Adds the tenant's next data key version and re-encrypts every connection under it (one
 * transaction: the caller's). Returns the new version and how many connections moved.
 */
export async function rotateTenantDataKey(
  client: SqlClient,
  provider: KeyProvider,
  tenantId: string,
): Promise<{ keyVersion: number; reencrypted: number }> {
  const { rows: top } = await client.query<{ v: number }>(
    'SELECT coalesce(max(key_version), 0)::int AS v FROM tenant_data_keys WHERE tenant_id = $1',
    [tenantId],
  );
  const keyVersion = (top[0]?.v ?? 0) + 1;
  await insertDataKey(client, provider, tenantId, keyVersion);
  const { rows } = await client.query<ConnectionRow>(
    `SELECT id, ciphertext, iv, tag, key_version FROM connections WHERE tenant_id = $1 FOR UPDATE`,
    [tenantId],
  );
  for (const row of rows) {
    const target = { tenantId, connectionId: row.id };
    const secrets = await openConnectionSecrets(client, provider, target, {
      ciphertext: row.ciphertext,
      iv: row.iv,
      tag: row.tag,
      keyVersion: row.key_version,
    });
    const sealed = await sealConnectionSecrets(client, provider, target, secrets);
    await client.query(
      `UPDATE connections SET ciphertext = $3, iv = $4, tag = $5, key_version = $6, updated_at = now()
        WHERE tenant_id = $1 AND id = $2`,
      [tenantId, row.id, sealed.ciphertext, sealed.iv, sealed.tag, sealed.keyVersion],
    );
  }
  return { keyVersion, reencrypted: rows.length };
}

export interface RewrapReport {
  readonly tenants: number;
  readonly rewrapped: number;
  /** Data keys that could not be unwrapped (their master key is not configured). */
  readonly failed: number;
}

/**
 * Master key rotation: every tenant's data keys are unwrapped (with whichever configured master
 * key wrapped them) and wrapped again with `provider.currentKeyId`. Connections are untouched:
 * their data keys do not change. Each tenant is one transaction under its own RLS context.
 */
export async function rewrapDataKeys(
  listClient: SqlClient,
  inTenant: InTenant,
  provider: KeyProvider,
): Promise<RewrapReport> {
  const { rows: tenants } = await listClient.query<{ tenant_id: string }>(
    'SELECT tenant_id FROM roster_secrets_key_tenants()',
  );
  let rewrapped = 0;
  let failed = 0;
  for (const { tenant_id: tenantId } of tenants) {
    await inTenant(tenantId, async (client) => {
      const { rows } = await client.query<DataKeyRow>(
        `SELECT key_version, wrapped_key, master_key_id FROM tenant_data_keys
          WHERE tenant_id = $1 ORDER BY key_version FOR UPDATE`,
        [tenantId],
      );
      for (const row of rows) {
        if (row.master_key_id === provider.currentKeyId) continue;
        let unwrapped: { key: Buffer };
        try {
          unwrapped = await unwrapRow(provider, tenantId, row);
        } catch {
          failed++;
          continue;
        }
        const wrapped = await provider.wrap(unwrapped.key, {
          tenantId,
          keyVersion: row.key_version,
        });
        unwrapped.key.fill(0);
        await client.query(
          `UPDATE tenant_data_keys SET wrapped_key = $3, master_key_id = $4, rewrapped_at = now()
            WHERE tenant_id = $1 AND key_version = $2`,
          [tenantId, row.key_version, wrapped.wrapped, wrapped.masterKeyId],
        );
        rewrapped++;
      }
    });
  }
  return { tenants: tenants.length, rewrapped, failed };
}
