import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import {
  currentDataKey,
  type KeyProvider,
  openAesGcm,
  packSealed,
  type SqlClient,
  sealAesGcm,
  unpackSealed,
} from '@roster/plugin-host';
import { GovernanceError } from '../errors.js';

// Per-subject keys are wrapped under the tenant's data key (itself wrapped by the master key, see
// @roster/plugin-host), so master key rotation never touches them and erasure is one DELETE.

const keyAad = (tenantId: string, subjectId: string, dataKeyVersion: number) =>
  `roster-subject-key/v1|${tenantId}|${subjectId}|${dataKeyVersion}`;

/** How an address is compared: trimmed, lower case (local parts are case-insensitive in practice). */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

interface DataKeyRow extends Record<string, unknown> {
  key_version: number;
  wrapped_key: Buffer;
  master_key_id: string;
}

async function dataKey(
  client: SqlClient,
  provider: KeyProvider,
  tenantId: string,
  which: number | 'oldest',
): Promise<{ keyVersion: number; key: Buffer }> {
  const select = (sql: string, params: unknown[]) => client.query<DataKeyRow>(sql, params);
  const { rows } =
    which === 'oldest'
      ? await select(
          `SELECT key_version, wrapped_key, master_key_id FROM tenant_data_keys
            WHERE tenant_id = $1 ORDER BY key_version LIMIT 1`,
          [tenantId],
        )
      : await select(
          `SELECT key_version, wrapped_key, master_key_id FROM tenant_data_keys
            WHERE tenant_id = $1 AND key_version = $2`,
          [tenantId, which],
        );
  if (rows.length === 0 && which === 'oldest') {
    return currentDataKey(client, provider, tenantId);
  }
  const row = rows[0];
  if (!row) {
    throw new GovernanceError(
      'SUBJECT_KEY_UNREADABLE',
      `Tenant data key version ${which} is missing, so subject keys wrapped under it cannot be read; restore the tenant_data_keys row.`,
      { keyVersion: which },
    );
  }
  const key = await provider.unwrap(
    { masterKeyId: row.master_key_id, wrapped: row.wrapped_key },
    { tenantId, keyVersion: row.key_version },
  );
  return { keyVersion: row.key_version, key };
}

/**
 * HMAC-SHA256 of the normalised address under a key derived from the tenant's first data key:
 * finds a subject without storing the address, and differs per tenant.
 */
export async function subjectLookupHash(
  client: SqlClient,
  provider: KeyProvider,
  tenantId: string,
  email: string,
): Promise<string> {
  const { key } = await dataKey(client, provider, tenantId, 'oldest');
  const lookupKey = createHmac('sha256', key).update('roster-subject-lookup/v1').digest();
  key.fill(0);
  return createHmac('sha256', lookupKey).update(normaliseEmail(email)).digest('hex');
}

export interface SubjectKey {
  subjectId: string;
  key: Buffer;
}

/** The live subject of `email` and its key, made on first use (concurrent callers agree). */
export async function subjectKeyFor(
  client: SqlClient,
  provider: KeyProvider,
  tenantId: string,
  email: string,
): Promise<SubjectKey> {
  const lookup = await subjectLookupHash(client, provider, tenantId, email);
  const existing = await liveSubject(client, provider, tenantId, lookup);
  if (existing) return existing;
  const subjectId = randomUUID();
  const subjectKey = randomBytes(32);
  const { keyVersion, key: tenantKey } = await currentDataKey(client, provider, tenantId);
  const wrapped = packSealed(
    sealAesGcm(tenantKey, subjectKey, keyAad(tenantId, subjectId, keyVersion)),
  );
  tenantKey.fill(0);
  await client.query(
    `WITH s AS (
       INSERT INTO data_subjects (tenant_id, id, lookup_hash) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id, lookup_hash) WHERE erased_at IS NULL DO NOTHING RETURNING id)
     INSERT INTO data_subject_keys (tenant_id, subject_id, data_key_version, wrapped_key)
     SELECT $1, id, $4, $5 FROM s`,
    [tenantId, subjectId, lookup, keyVersion, wrapped],
  );
  const made = await liveSubject(client, provider, tenantId, lookup);
  if (!made) {
    throw new GovernanceError(
      'SUBJECT_KEY_UNREADABLE',
      'A data subject was erased while its key was being made; retry the write.',
    );
  }
  return made;
}

async function liveSubject(
  client: SqlClient,
  provider: KeyProvider,
  tenantId: string,
  lookup: string,
): Promise<SubjectKey | undefined> {
  const { rows } = await client.query<{ id: string }>(
    `SELECT id FROM data_subjects WHERE tenant_id = $1 AND lookup_hash = $2 AND erased_at IS NULL`,
    [tenantId, lookup],
  );
  const id = rows[0]?.id;
  if (!id) return undefined;
  const keys = await loadSubjectKeys(client, provider, tenantId, [id]);
  const key = keys.get(id);
  return key ? { subjectId: id, key } : undefined;
}

/** The keys of `subjectIds` that still exist; erased subjects are absent from the map. */
export async function loadSubjectKeys(
  client: SqlClient,
  provider: KeyProvider,
  tenantId: string,
  subjectIds: readonly string[],
): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  if (subjectIds.length === 0) return found;
  const { rows } = await client.query<{
    subject_id: string;
    data_key_version: number;
    wrapped_key: Buffer;
  }>(
    `SELECT subject_id, data_key_version, wrapped_key FROM data_subject_keys
      WHERE tenant_id = $1 AND subject_id = ANY($2::uuid[])`,
    [tenantId, [...new Set(subjectIds)]],
  );
  const tenantKeys = new Map<number, Buffer>();
  for (const row of rows) {
    let tenantKey = tenantKeys.get(row.data_key_version);
    if (!tenantKey) {
      tenantKey = (await dataKey(client, provider, tenantId, row.data_key_version)).key;
      tenantKeys.set(row.data_key_version, tenantKey);
    }
    try {
      found.set(
        row.subject_id,
        openAesGcm(
          tenantKey,
          unpackSealed(row.wrapped_key),
          keyAad(tenantId, row.subject_id, row.data_key_version),
          'A data subject key',
        ),
      );
    } catch (err) {
      throw new GovernanceError(
        'SUBJECT_KEY_UNREADABLE',
        `The key of data subject ${row.subject_id} does not unwrap under the tenant data key it names: it was moved or altered.`,
        { subjectId: row.subject_id },
        { cause: err },
      );
    }
  }
  for (const key of tenantKeys.values()) key.fill(0);
  return found;
}
