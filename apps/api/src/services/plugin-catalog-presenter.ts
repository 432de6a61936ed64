import { type Pool, withTenant } from '@roster/db';
import type { PageRequest } from '../graphql/pagination.js';
import { toPage } from '../graphql/pagination.js';

export interface PluginRow {
  id: string;
  pluginKey: string;
  name: string;
  description: string;
  publisher: string;
  createdAt: Date;
}

export interface PluginVersionRow {
  id: string;
  pluginId: string;
  pluginKey: string;
  version: string;
  manifest: Record<string, unknown>;
  integrity: string;
  keyId: string;
  changelog: string;
  reviewState: 'pending' | 'approved' | 'rejected';
  reviewNote: string | null;
  reviewedAt: Date | null;
  createdAt: Date;
}

/** Columns of a version row `v` joined with its plugin `p`. */
export const PLUGIN_VERSION_COLUMNS = `v.id, v.plugin_id AS "pluginId", p.plugin_key AS "pluginKey", v.version,
  v.manifest, v.integrity, v.key_id AS "keyId", v.changelog, v.review_state AS "reviewState",
  v.review_note AS "reviewNote", v.reviewed_at AS "reviewedAt", v.created_at AS "createdAt"`;

const PLUGIN_COLUMNS = `p.id, p.plugin_key AS "pluginKey", p.name, p.description, pb.name AS publisher,
  p.created_at AS "createdAt"`;

/** Capability names a manifest requests (what an install must consent to). */
export function requestedCapabilities(manifest: Record<string, unknown>): string[] {
  const capabilities = manifest.capabilities;
  return capabilities && typeof capabilities === 'object' ? Object.keys(capabilities).sort() : [];
}

/**
 * Listings: plugins with at least one approved version, optionally matching `search` in their
 * id, name or description. The catalog is global (the tenant context only satisfies withTenant).
 */
export async function listPlugins(
  appPool: Pool,
  tenantId: string,
  page: PageRequest,
  search: string | null,
) {
  const pattern = search ? `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const { rows } = await withTenant(appPool, tenantId, ({ client }) =>
    client.query(
      `SELECT ${PLUGIN_COLUMNS} FROM plugins p JOIN publishers pb ON pb.id = p.publisher_id
        WHERE EXISTS (SELECT 1 FROM plugin_versions v WHERE v.plugin_id = p.id AND v.review_state = 'approved')
          AND ($1::text IS NULL OR p.plugin_key ILIKE $1 OR p.name ILIKE $1 OR p.description ILIKE $1)
          AND ($2::timestamptz IS NULL OR (p.created_at, p.id) > ($2, $3::uuid))
        ORDER BY p.created_at, p.id LIMIT $4`,
      [pattern, page.after?.createdAt ?? null, page.after?.id ?? null, page.limit + 1],
    ),
  );
  return toPage(rows as PluginRow[], page.limit);
}

/** One listed plugin (it must have an approved version), or null. */
export async function getPlugin(
  appPool: Pool,
  tenantId: string,
  pluginId: string,
): Promise<PluginRow | null> {
  const { rows } = await withTenant(appPool, tenantId, ({ client }) =>
    client.query(
      `SELECT ${PLUGIN_COLUMNS} FROM plugins p JOIN publishers pb ON pb.id = p.publisher_id
        WHERE p.id = $1
          AND EXISTS (SELECT 1 FROM plugin_versions v WHERE v.plugin_id = p.id AND v.review_state = 'approved')`,
      [pluginId],
    ),
  );
  return (rows[0] as PluginRow | undefined) ?? null;
}

/** Approved versions of a plugin, newest first: the version history with changelogs. */
export async function listApprovedVersions(
  appPool: Pool,
  tenantId: string,
  pluginId: string,
  limit: number,
): Promise<PluginVersionRow[]> {
  const { rows } = await withTenant(appPool, tenantId, ({ client }) =>
    client.query(
      `SELECT ${PLUGIN_VERSION_COLUMNS} FROM plugin_versions v JOIN plugins p ON p.id = v.plugin_id
        WHERE v.plugin_id = $1 AND v.review_state = 'approved'
        ORDER BY v.created_at DESC, v.id DESC LIMIT $2`,
      [pluginId, limit],
    ),
  );
  return rows as PluginVersionRow[];
}

/** One version by id in any review state (for its publisher's tenant and install checks). */
export async function getPluginVersion(
  appPool: Pool,
  tenantId: string,
  versionId: string,
): Promise<PluginVersionRow | null> {
  const { rows } = await withTenant(appPool, tenantId, ({ client }) =>
    client.query(
      `SELECT ${PLUGIN_VERSION_COLUMNS} FROM plugin_versions v JOIN plugins p ON p.id = v.plugin_id WHERE v.id = $1`,
      [versionId],
    ),
  );
  return (rows[0] as PluginVersionRow | undefined) ?? null;
}
