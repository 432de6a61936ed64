import type { KeyProvider, SqlClient } from '@roster/plugin-host';
import { GovernanceError } from '../errors.js';
import { detectEmails } from '../redaction/detect-email.js';
import { normaliseEmail, subjectLookupHash } from './subject-keys.js';

export interface ErasureCertificate {
  certificateId: string;
  /** The subject erased (the address itself is never stored). */
  subjectId: string;
  /** Subject keys deleted by this call: 0 when the subject was already erased (idempotent). */
  keysDestroyed: number;
  /** Rows whose plaintext copy of the address was removed, per table. */
  purged: Record<string, number>;
  erasedAt: string;
  /** True when an earlier erasure had already destroyed every key of the address. */
  alreadyErased: boolean;
}

/**
 * Places that hold plaintext because something outside Roster needs it (the runner scoring a
 * decision, a callback receiver): their rows that mention the address are deleted or emptied.
 * Everything else holds sealed tokens only.
 */
const PURGES: readonly { name: string; sql: string }[] = [
  {
    name: 'inference_requests',
    sql: `DELETE FROM inference_requests WHERE tenant_id = $1
            AND (input::text ILIKE $2 OR coalesce(result::text, '') ILIKE $2)`,
  },
  {
    name: 'callback_deliveries',
    sql: `UPDATE callback_deliveries SET payload = '{}'::jsonb, last_error = NULL
           WHERE tenant_id = $1 AND (payload::text ILIKE $2 OR coalesce(last_error, '') ILIKE $2)`,
  },
  {
    name: 'callback_attempts',
    sql: `DELETE FROM callback_attempts WHERE tenant_id = $1 AND error ILIKE $2`,
  },
];

const likePattern = (email: string) => `%${email.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Erases the data subject of `email` in the caller's tenant transaction: deletes its keys (every
 * sealed value of the subject becomes unreadable while the audit chain, which hashed the
 * ciphertext, still verifies), marks it erased, purges the plaintext copies listed above and
 * writes an erasure certificate. A repeat finds no key and certifies again with 0 destroyed.
 */
export async function eraseSubjectData(
  client: SqlClient,
  provider: KeyProvider,
  tenantId: string,
  input: { email: string; requestedBy: string },
): Promise<ErasureCertificate> {
  const email = normaliseEmail(input.email);
  const found = detectEmails(email);
  if (found.length !== 1 || found[0]?.start !== 0 || found[0]?.end !== email.length) {
    throw new GovernanceError(
      'ERASURE_INPUT_INVALID',
      'Give the data subject as one e-mail address, e.g. "jane@example.com".',
      { field: 'email' },
    );
  }
  const lookup = await subjectLookupHash(client, provider, tenantId, email);
  const { rows: subjects } = await client.query<{ id: string; erased_at: Date | null }>(
    `SELECT id, erased_at FROM data_subjects WHERE tenant_id = $1 AND lookup_hash = $2
      ORDER BY created_at DESC FOR UPDATE`,
    [tenantId, lookup],
  );
  let subjectId = subjects.find((s) => s.erased_at === null)?.id ?? subjects[0]?.id;
  const alreadyErased = subjects.length > 0 && subjects.every((s) => s.erased_at !== null);
  if (!subjectId) {
    // Nothing was ever sealed for the address: record the subject as erased all the same, so the
    // certificate names it and a repeat is recognised.
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO data_subjects (tenant_id, lookup_hash, erased_at) VALUES ($1, $2, now())
       RETURNING id`,
      [tenantId, lookup],
    );
    subjectId = (rows[0] as { id: string }).id;
  }
  const ids = subjects.length > 0 ? subjects.map((s) => s.id) : [subjectId];
  const { rows: destroyed } = await client.query(
    `DELETE FROM data_subject_keys WHERE tenant_id = $1 AND subject_id = ANY($2::uuid[])
     RETURNING subject_id`,
    [tenantId, ids],
  );
  await client.query(
    `UPDATE data_subjects SET erased_at = now()
      WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND erased_at IS NULL`,
    [tenantId, ids],
  );
  const purged: Record<string, number> = {};
  for (const purge of PURGES) {
    const result = await client.query(`${purge.sql} RETURNING 1`, [tenantId, likePattern(email)]);
    purged[purge.name] = result.rows.length;
  }
  const { rows: cert } = await client.query<{ id: string; erased_at: Date }>(
    `INSERT INTO erasure_certificates (tenant_id, subject_id, requested_by, keys_destroyed, purged)
     VALUES ($1, $2, $3, $4, $5) RETURNING id, erased_at`,
    [tenantId, subjectId, input.requestedBy, destroyed.length, JSON.stringify(purged)],
  );
  const row = cert[0] as { id: string; erased_at: Date };
  return {
    certificateId: row.id,
    subjectId,
    keysDestroyed: destroyed.length,
    purged,
    erasedAt: row.erased_at.toISOString(),
    alreadyErased,
  };
}
