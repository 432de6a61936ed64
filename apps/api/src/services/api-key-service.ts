import { type AuditRequestContext, recordAudit } from '@roster/audit';
import { type Policy, type RosterAbility, subjectRecord } from '@roster/authz';
import { type Pool, withTenant } from '@roster/db';
import { badInput, notFound } from '../errors.js';
import { type PageRequest, toPage } from '../graphql/pagination.js';
import { generateApiKey } from '../identity/credentials.js';

export interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const COLUMNS = `id, name, prefix, scopes, created_at AS "createdAt", expires_at AS "expiresAt",
                 last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"`;

/** Creates a key for the tenant; the token is returned once and never stored. */
export async function createApiKey(
  appPool: Pool,
  policy: Policy,
  actor: { tenantId: string; userId: string; audit: AuditRequestContext },
  input: { name: string; scopes: string[]; expiresAt?: Date | null },
): Promise<{ apiKey: ApiKeyRow; token: string }> {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100)
    throw badInput('input.name', 'input.name must be 1 to 100 characters.');
  if (input.scopes.length === 0 || input.scopes.length > 50)
    throw badInput('input.scopes', 'Give 1 to 50 scopes.');
  input.scopes.forEach((scope, i) => {
    if (!policy.scopes.has(scope)) {
      throw badInput(
        `input.scopes.${i}`,
        `Unknown scope ${JSON.stringify(scope.slice(0, 64))}; known: ${[...policy.scopes.keys()].join(', ')}.`,
      );
    }
  });
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
    throw badInput('input.expiresAt', 'input.expiresAt must be in the future.');
  }
  const key = generateApiKey();
  const apiKey = await withTenant(appPool, actor.tenantId, async ({ client }) => {
    const { rows } = await client.query(
      `INSERT INTO api_keys (tenant_id, name, prefix, secret_hash, scopes, created_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [
        actor.tenantId,
        name,
        key.prefix,
        key.secretHash,
        [...new Set(input.scopes)],
        actor.userId,
        input.expiresAt ?? null,
      ],
    );
    const row = rows[0] as ApiKeyRow;
    // The prefix identifies the key; the secret is never recorded.
    await recordAudit(client, actor.tenantId, actor.audit, {
      action: 'apikey.created',
      subject: { type: 'apiKey', id: row.id },
      data: { keyPrefix: row.prefix, name: row.name, scopes: row.scopes },
    });
    return row;
  });
  return { apiKey, token: key.token };
}

/** Revokes a key after checking the actor may revoke THAT key (ownership conditions). */
export async function revokeApiKey(
  appPool: Pool,
  ability: RosterAbility,
  tenantId: string,
  keyId: string,
  audit: AuditRequestContext,
): Promise<ApiKeyRow> {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const found = await client.query(
      'SELECT created_by, revoked_at FROM api_keys WHERE tenant_id = $1 AND id = $2 FOR UPDATE',
      [tenantId, keyId],
    );
    if (!found.rows[0]) throw notFound('That API key');
    ability.assert(
      'revoke',
      subjectRecord('ApiKey', { tenantId, createdBy: found.rows[0].created_by }),
    );
    const { rows } = await client.query(
      `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [tenantId, keyId],
    );
    if (!rows[0]) throw notFound('That API key');
    const row = rows[0] as ApiKeyRow;
    await recordAudit(client, tenantId, audit, {
      action: 'apikey.revoked',
      subject: { type: 'apiKey', id: row.id },
      before: { revokedAt: found.rows[0].revoked_at?.toISOString() ?? null },
      after: { revokedAt: row.revokedAt?.toISOString() ?? null },
      data: { keyPrefix: row.prefix, name: row.name },
    });
    return row;
  });
}

export async function listApiKeys(appPool: Pool, tenantId: string, page: PageRequest) {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query(
      `SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1
         AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::uuid))
       ORDER BY created_at, id LIMIT $4`,
      [tenantId, page.after?.createdAt ?? null, page.after?.id ?? null, page.limit + 1],
    );
    return toPage(rows as ApiKeyRow[], page.limit);
  });
}
