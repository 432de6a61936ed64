import { randomUUID } from 'node:crypto';
import type { Pool } from '@roster/db';
import { generateApiKey, generatePassword, hashPassword } from './credentials.js';

export const DEMO_TENANT_SLUG = 'demo';
export const DEMO_ADMIN_EMAIL = 'admin@demo.roster.test';

export type SeedResult =
  | { seeded: false }
  | { seeded: true; tenantId: string; email: string; password: string; apiKey: string };

/**
 * Creates the demo tenant, its owner and an API key, once. An operator task run with the owner
 * connection (like migrations), in one transaction; a second call finds the tenant and does
 * nothing, so credentials are shown exactly once.
 */
export async function seedDemoTenant(ownerPool: Pool): Promise<SeedResult> {
  const client = await ownerPool.connect();
  try {
    await client.query('BEGIN');
    // Two `roster up` at once: the second waits here, then sees the tenant.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('roster:seed-demo'))`);
    const existing = await client.query('SELECT id FROM tenants WHERE slug = $1', [
      DEMO_TENANT_SLUG,
    ]);
    if (existing.rowCount) {
      await client.query('ROLLBACK');
      return { seeded: false };
    }
    const tenantId = randomUUID();
    const userId = randomUUID();
    const password = generatePassword();
    const key = generateApiKey();
    await client.query('INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $3)', [
      tenantId,
      DEMO_TENANT_SLUG,
      'Demo Company',
    ]);
    await client.query(
      `INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, 'Demo Admin', $3)
       ON CONFLICT (lower(email)) DO UPDATE SET password_hash = EXCLUDED.password_hash`,
      [userId, DEMO_ADMIN_EMAIL, await hashPassword(password)],
    );
    const user = await client.query('SELECT id FROM users WHERE lower(email) = lower($1)', [
      DEMO_ADMIN_EMAIL,
    ]);
    const ownerId = user.rows[0].id as string;
    await client.query(
      `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'owner')`,
      [tenantId, ownerId],
    );
    await client.query(
      `INSERT INTO api_keys (tenant_id, name, prefix, secret_hash, scopes, created_by)
       VALUES ($1, 'Demo integration', $2, $3, $4, $5)`,
      [
        tenantId,
        key.prefix,
        key.secretHash,
        ['runs:write', 'runs:read', 'workflows:read'],
        ownerId,
      ],
    );
    await client.query('COMMIT');
    return { seeded: true, tenantId, email: DEMO_ADMIN_EMAIL, password, apiKey: key.token };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
