import { type Pool, withTenant } from '@roster/db';
import { type PageRequest, toPage } from '../graphql/pagination.js';

export interface MemberRow {
  id: string;
  userId: string;
  email: string;
  name: string;
  role: string;
  createdAt: Date;
}

export async function listMembers(appPool: Pool, tenantId: string, page: PageRequest) {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query(
      `SELECT m.user_id AS id, m.user_id AS "userId", u.email, u.name, m.role, m.created_at AS "createdAt"
         FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.tenant_id = $1 AND ($2::timestamptz IS NULL OR (m.created_at, m.user_id) > ($2, $3::uuid))
        ORDER BY m.created_at, m.user_id LIMIT $4`,
      [tenantId, page.after?.createdAt ?? null, page.after?.id ?? null, page.limit + 1],
    );
    return toPage(rows as MemberRow[], page.limit);
  });
}

export async function getTenant(appPool: Pool, tenantId: string) {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query(
      'SELECT id, slug, name, created_at AS "createdAt" FROM tenants WHERE id = $1',
      [tenantId],
    );
    return rows[0] as { id: string; slug: string; name: string; createdAt: Date } | undefined;
  });
}
