import { randomBytes, randomUUID } from 'node:crypto';
import type { Pool } from '@roster/db';

export interface TestTenant {
  id: string;
  slug: string;
  name: string;
}

/** Inserts a tenant as the owner (setup bypasses RLS on purpose). */
export async function createTenant(ownerPool: Pool, name = 'Acme'): Promise<TestTenant> {
  const id = randomUUID();
  const slug = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${randomBytes(3).toString('hex')}`;
  await ownerPool.query('INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $3)', [
    id,
    slug,
    name,
  ]);
  return { id, slug, name };
}

export interface TestUser {
  id: string;
  email: string;
}

/** Inserts a user and, when a tenant is given, their membership with `role`. */
export async function createUser(
  ownerPool: Pool,
  options: { tenantId?: string; role?: string; email?: string; name?: string } = {},
): Promise<TestUser> {
  const id = randomUUID();
  const email = options.email ?? `user-${randomBytes(4).toString('hex')}@example.test`;
  await ownerPool.query('INSERT INTO users (id, email, name) VALUES ($1, $2, $3)', [
    id,
    email,
    options.name ?? 'Test User',
  ]);
  if (options.tenantId) {
    await ownerPool.query(
      'INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3)',
      [options.tenantId, id, options.role ?? 'viewer'],
    );
  }
  return { id, email };
}
