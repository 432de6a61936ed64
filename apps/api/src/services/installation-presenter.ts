import { type Pool, withTenant } from '@roster/db';
import type { PageRequest } from '../graphql/pagination.js';
import { toPage } from '../graphql/pagination.js';

export interface InstallationRow {
  id: string;
  pluginId: string;
  pluginKey: string;
  pluginVersionId: string;
  version: string;
  grantedCapabilities: string[];
  status: 'active' | 'uninstalled';
  createdAt: Date;
  updatedAt: Date;
}

/** Metadata only: a connection's secrets are never selected by a presenter. */
export interface ConnectionRow {
  id: string;
  installationId: string;
  name: string;
  keyVersion: number;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const INSTALLATION_COLUMNS = `i.id, i.plugin_id AS "pluginId", p.plugin_key AS "pluginKey",
  i.plugin_version_id AS "pluginVersionId", v.version, i.granted_capabilities AS "grantedCapabilities",
  i.status, i.created_at AS "createdAt", i.updated_at AS "updatedAt"`;

const INSTALLATION_FROM = `installations i JOIN plugins p ON p.id = i.plugin_id
  JOIN plugin_versions v ON v.id = i.plugin_version_id`;

export const CONNECTION_COLUMNS = `c.id, c.installation_id AS "installationId", c.name,
  c.key_version AS "keyVersion", c.created_by AS "createdBy", c.created_at AS "createdAt",
  c.updated_at AS "updatedAt"`;

type Queryable = {
  query: (sql: string, params: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>;
};

export async function installationById(
  client: Queryable,
  tenantId: string,
  id: string,
): Promise<InstallationRow | null> {
  const { rows } = await client.query(
    `SELECT ${INSTALLATION_COLUMNS} FROM ${INSTALLATION_FROM} WHERE i.tenant_id = $1 AND i.id = $2`,
    [tenantId, id],
  );
  return (rows[0] as InstallationRow | undefined) ?? null;
}

export async function listInstallations(appPool: Pool, tenantId: string, page: PageRequest) {
  const { rows } = await withTenant(appPool, tenantId, ({ client }) =>
    client.query(
      `SELECT ${INSTALLATION_COLUMNS} FROM ${INSTALLATION_FROM}
        WHERE i.tenant_id = $1 AND i.status = 'active'
          AND ($2::timestamptz IS NULL OR (i.created_at, i.id) > ($2, $3::uuid))
        ORDER BY i.created_at, i.id LIMIT $4`,
      [tenantId, page.after?.createdAt ?? null, page.after?.id ?? null, page.limit + 1],
    ),
  );
  return toPage(rows as InstallationRow[], page.limit);
}

export async function connectionById(
  client: Queryable,
  tenantId: string,
  id: string,
): Promise<ConnectionRow | null> {
  const { rows } = await client.query(
    `SELECT ${CONNECTION_COLUMNS} FROM connections c WHERE c.tenant_id = $1 AND c.id = $2`,
    [tenantId, id],
  );
  return (rows[0] as ConnectionRow | undefined) ?? null;
}

export async function listConnections(
  appPool: Pool,
  tenantId: string,
  page: PageRequest,
  installationId: string | null,
) {
  const { rows } = await withTenant(appPool, tenantId, ({ client }) =>
    client.query(
      `SELECT ${CONNECTION_COLUMNS} FROM connections c
        WHERE c.tenant_id = $1 AND ($2::uuid IS NULL OR c.installation_id = $2)
          AND ($3::timestamptz IS NULL OR (c.created_at, c.id) > ($3, $4::uuid))
        ORDER BY c.created_at, c.id LIMIT $5`,
      [
        tenantId,
        installationId,
        page.after?.createdAt ?? null,
        page.after?.id ?? null,
        page.limit + 1,
      ],
    ),
  );
  return toPage(rows as ConnectionRow[], page.limit);
}
