import { recordAudit } from '@roster/audit';
import { type Pool, withTenant } from '@roster/db';
import { ApiError, badInput, conflict, notFound } from '../errors.js';
import { type InstallationRow, installationById } from './installation-presenter.js';
import { getPluginVersion, requestedCapabilities } from './plugin-catalog-presenter.js';
import type { CatalogActor } from './plugin-catalog-service.js';

export interface CapabilityDiff {
  added: string[];
  removed: string[];
}

/**
 * Consent: the admin grants exactly what the version's manifest requests. Anything missing is
 * refused naming it (so the portal can show what to tick); anything extra is refused too.
 */
function checkConsent(requested: string[], granted: readonly string[], newOnes?: string[]) {
  const grantedSet = new Set(granted);
  const missing = requested.filter((c) => !grantedSet.has(c));
  if (missing.length > 0) {
    throw new ApiError(
      'BAD_USER_INPUT',
      `input.grantedCapabilities is missing ${missing.join(', ')}: this version requests ${requested.join(', ') || 'nothing'}; grant each one to consent.`,
      {
        field: 'input.grantedCapabilities',
        missing,
        ...(newOnes ? { newCapabilities: newOnes } : {}),
      },
    );
  }
  const extra = [...grantedSet].filter((c) => !requested.includes(c));
  if (extra.length > 0) {
    throw badInput(
      'input.grantedCapabilities',
      `input.grantedCapabilities names ${extra.join(', ')}, which this version does not request; grant only ${requested.join(', ') || 'nothing'}.`,
    );
  }
}

async function approvedVersion(appPool: Pool, tenantId: string, versionId: string) {
  const version = await getPluginVersion(appPool, tenantId, versionId);
  // Pending and rejected versions are not listed: to an installer they do not exist.
  if (version?.reviewState !== 'approved') throw notFound('That plugin version');
  return version;
}

export async function installPlugin(
  appPool: Pool,
  actor: CatalogActor,
  input: { versionId: string; grantedCapabilities: string[] },
): Promise<InstallationRow> {
  actor.ability.assert('grant', 'Installation');
  const version = await approvedVersion(appPool, actor.tenantId, input.versionId);
  checkConsent(requestedCapabilities(version.manifest), input.grantedCapabilities);
  try {
    return await withTenant(appPool, actor.tenantId, async ({ client }) => {
      const { rows } = await client.query(
        `INSERT INTO installations (tenant_id, plugin_id, plugin_version_id, granted_capabilities, installed_by)
         VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [
          actor.tenantId,
          version.pluginId,
          version.id,
          JSON.stringify([...input.grantedCapabilities].sort()),
          actor.userId,
        ],
      );
      await recordAudit(client, actor.tenantId, actor.audit, {
        action: 'plugin.installed',
        subject: { type: 'installation', id: rows[0].id as string },
        data: { plugin: version.pluginKey },
        after: {
          version: version.version,
          grantedCapabilities: [...input.grantedCapabilities].sort(),
        },
      });
      return installationById(
        client,
        actor.tenantId,
        rows[0].id as string,
      ) as Promise<InstallationRow>;
    });
  } catch (error) {
    if ((error as { constraint?: string }).constraint === 'installations_active_plugin') {
      throw conflict(
        `${version.pluginKey} is already installed; use upgradeInstallation to change versions.`,
      );
    }
    throw error;
  }
}

/** Moves an installation to another approved version; capabilities the new one adds need consent. */
export async function upgradeInstallation(
  appPool: Pool,
  actor: CatalogActor,
  input: { installationId: string; versionId: string; grantedCapabilities: string[] },
): Promise<{ installation: InstallationRow; diff: CapabilityDiff }> {
  actor.ability.assert('grant', 'Installation');
  const version = await approvedVersion(appPool, actor.tenantId, input.versionId);
  return withTenant(appPool, actor.tenantId, async ({ client }) => {
    const current = await installationById(client, actor.tenantId, input.installationId);
    if (current?.status !== 'active') throw notFound('That installation');
    if (current.pluginId !== version.pluginId) {
      throw badInput('input.versionId', 'input.versionId is a version of another plugin.');
    }
    const requested = requestedCapabilities(version.manifest);
    const before = new Set(current.grantedCapabilities);
    const diff: CapabilityDiff = {
      added: requested.filter((c) => !before.has(c)),
      removed: current.grantedCapabilities.filter((c) => !requested.includes(c)),
    };
    checkConsent(requested, input.grantedCapabilities, diff.added);
    await client.query(
      `UPDATE installations SET plugin_version_id = $3, granted_capabilities = $4, updated_at = now()
        WHERE tenant_id = $1 AND id = $2`,
      [actor.tenantId, current.id, version.id, JSON.stringify(requested)],
    );
    await recordAudit(client, actor.tenantId, actor.audit, {
      action: 'plugin.upgraded',
      subject: { type: 'installation', id: current.id },
      data: {
        plugin: version.pluginKey,
        addedCapabilities: diff.added,
        removedCapabilities: diff.removed,
      },
      before: { version: current.version, grantedCapabilities: current.grantedCapabilities },
      after: { version: version.version, grantedCapabilities: requested },
    });
    const installation = (await installationById(
      client,
      actor.tenantId,
      current.id,
    )) as InstallationRow;
    return { installation, diff };
  });
}

/** Marks the installation uninstalled and deletes its connections (their secrets with them). */
export async function uninstallPlugin(
  appPool: Pool,
  actor: CatalogActor,
  installationId: string,
): Promise<InstallationRow> {
  return withTenant(appPool, actor.tenantId, async ({ client }) => {
    const current = await installationById(client, actor.tenantId, installationId);
    if (current?.status !== 'active') throw notFound('That installation');
    const deleted = await client.query(
      'DELETE FROM connections WHERE tenant_id = $1 AND installation_id = $2',
      [actor.tenantId, installationId],
    );
    await client.query(
      `UPDATE installations SET status = 'uninstalled', updated_at = now() WHERE tenant_id = $1 AND id = $2`,
      [actor.tenantId, installationId],
    );
    await recordAudit(client, actor.tenantId, actor.audit, {
      action: 'plugin.uninstalled',
      subject: { type: 'installation', id: installationId },
      data: { plugin: current.pluginKey, connectionsDeleted: deleted.rowCount ?? 0 },
      before: { status: 'active', version: current.version },
      after: { status: 'uninstalled' },
    });
    return (await installationById(client, actor.tenantId, installationId)) as InstallationRow;
  });
}
