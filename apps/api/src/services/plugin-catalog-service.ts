import { recordAudit } from '@roster/audit';
import { type Pool, withTenant } from '@roster/db';
import {
  isPluginHostError,
  type PublisherPublicKey,
  publisherKeyFromSpki,
  verifyPackage,
} from '@roster/plugin-host';
import { ApiError, badInput, conflict, notFound } from '../errors.js';
import { PLUGIN_VERSION_COLUMNS, type PluginVersionRow } from './plugin-catalog-presenter.js';
import type { ServiceActor } from './service-actor.js';

export type CatalogActor = ServiceActor;

export interface PublisherRow {
  id: string;
  name: string;
  keyIds: string[];
  createdAt: Date;
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const MAX_CHANGELOG = 20_000;

function keyFromInput(name: string, publicKey: string): PublisherPublicKey {
  try {
    return publisherKeyFromSpki(name, publicKey);
  } catch (error) {
    const message = isPluginHostError(error) ? error.message : 'publicKey is not a valid key.';
    throw badInput(
      error instanceof Error && /Publisher/.test(message) ? 'input.name' : 'input.publicKey',
      message,
    );
  }
}

/** A publisher for the caller's tenant with its first ed25519 public key. */
export async function registerPublisher(
  appPool: Pool,
  actor: CatalogActor,
  input: { name: string; publicKey: string },
): Promise<PublisherRow> {
  if (!/^[a-z][a-z0-9-]{0,63}$/.test(input.name)) {
    throw badInput(
      'input.name',
      'input.name must be lower-case letters, digits and dashes, e.g. "acme".',
    );
  }
  const key = keyFromInput(input.name, input.publicKey);
  try {
    return await withTenant(appPool, actor.tenantId, async ({ client }) => {
      const { rows } = await client.query(
        `INSERT INTO publishers (name, owner_tenant_id, created_by) VALUES ($1, $2, $3)
         RETURNING id, name, created_at AS "createdAt"`,
        [input.name, actor.tenantId, actor.userId],
      );
      const publisher = rows[0] as { id: string; name: string; createdAt: Date };
      await client.query(
        `INSERT INTO publisher_keys (publisher_id, key_id, algorithm, public_key) VALUES ($1, $2, 'ed25519', $3)`,
        [publisher.id, key.keyId, key.publicKey],
      );
      // Public keys are public; the event names the key by its id.
      await recordAudit(client, actor.tenantId, actor.audit, {
        action: 'publisher.registered',
        subject: { type: 'publisher', id: publisher.id },
        after: { name: publisher.name, keyIds: [key.keyId] },
      });
      return { ...publisher, keyIds: [key.keyId] };
    });
  } catch (error) {
    if ((error as { constraint?: string }).constraint === 'publishers_name_key') {
      throw conflict(`Publisher "${input.name}" is taken; choose another name.`);
    }
    throw error;
  }
}

/** Another signing key for a publisher of the caller's tenant (key rotation). */
export async function addPublisherKey(
  appPool: Pool,
  actor: CatalogActor,
  input: { publisherId: string; publicKey: string },
): Promise<PublisherRow> {
  return withTenant(appPool, actor.tenantId, async ({ client }) => {
    const { rows } = await client.query(
      `SELECT id, name, created_at AS "createdAt" FROM publishers WHERE id = $1 AND owner_tenant_id = $2`,
      [input.publisherId, actor.tenantId],
    );
    const publisher = rows[0] as { id: string; name: string; createdAt: Date } | undefined;
    if (!publisher) throw notFound('That publisher');
    const key = keyFromInput(publisher.name, input.publicKey);
    const added = await client.query(
      `INSERT INTO publisher_keys (publisher_id, key_id, algorithm, public_key) VALUES ($1, $2, 'ed25519', $3)
       ON CONFLICT DO NOTHING`,
      [publisher.id, key.keyId, key.publicKey],
    );
    const { rows: keys } = await client.query(
      'SELECT key_id FROM publisher_keys WHERE publisher_id = $1 AND revoked_at IS NULL ORDER BY created_at',
      [publisher.id],
    );
    const keyIds = keys.map((k) => k.key_id as string);
    await recordAudit(client, actor.tenantId, actor.audit, {
      action: 'publisher.key_added',
      subject: { type: 'publisher', id: publisher.id },
      data: { name: publisher.name, keyId: key.keyId, alreadyRegistered: added.rowCount === 0 },
      after: { keyIds },
    });
    return { ...publisher, keyIds };
  });
}

const signedBy = (pkg: unknown): string | undefined => {
  const signature = (pkg as { signature?: { publisher?: unknown } } | null)?.signature;
  return typeof signature?.publisher === 'string' ? signature.publisher : undefined;
};

/**
 * Adds an immutable version (review state `pending`). The package's integrity and signature are
 * verified with the publisher's registered keys before anything is stored; the publisher must
 * belong to the caller's tenant.
 */
export async function publishPluginVersion(
  appPool: Pool,
  actor: CatalogActor,
  input: { package: Record<string, unknown>; changelog?: string | null },
): Promise<PluginVersionRow> {
  const changelog = input.changelog ?? '';
  if (changelog.length > MAX_CHANGELOG) {
    throw badInput(
      'input.changelog',
      `input.changelog may have at most ${MAX_CHANGELOG} characters.`,
    );
  }
  const publisherName = signedBy(input.package);
  if (!publisherName) {
    throw badInput(
      'input.package',
      'input.package has no signature.publisher: pack it with `roster plugin pack`.',
    );
  }
  try {
    return await withTenant(appPool, actor.tenantId, async ({ client }) => {
      const { rows: pubs } = await client.query(
        'SELECT id, owner_tenant_id FROM publishers WHERE name = $1',
        [publisherName],
      );
      const publisher = pubs[0] as { id: string; owner_tenant_id: string } | undefined;
      if (!publisher) {
        throw badInput(
          'input.package',
          `Publisher "${publisherName}" is not registered: call registerPublisher with its public key first.`,
        );
      }
      if (publisher.owner_tenant_id !== actor.tenantId) {
        throw new ApiError('FORBIDDEN', `Publisher "${publisherName}" belongs to another account.`);
      }
      const { rows: keys } = await client.query(
        'SELECT key_id, public_key FROM publisher_keys WHERE publisher_id = $1 AND revoked_at IS NULL',
        [publisher.id],
      );
      let verified: ReturnType<typeof verifyPackage>;
      try {
        verified = verifyPackage(
          input.package,
          keys.map((k) => ({
            publisher: publisherName,
            keyId: k.key_id as string,
            algorithm: 'ed25519' as const,
            publicKey: k.public_key as string,
          })),
        );
      } catch (error) {
        if (!isPluginHostError(error)) throw error;
        throw new ApiError('BAD_USER_INPUT', error.message, {
          field: 'input.package',
          reason: error.code,
        });
      }
      const { manifest } = verified;
      if (!SEMVER.test(manifest.version)) {
        throw badInput(
          'input.package',
          `manifest.version "${manifest.version}" is not semver (e.g. 1.2.0).`,
        );
      }
      const { rows: found } = await client.query(
        'SELECT id, publisher_id FROM plugins WHERE plugin_key = $1',
        [manifest.id],
      );
      let pluginId = found[0]?.id as string | undefined;
      if (found[0] && found[0].publisher_id !== publisher.id) {
        throw conflict(
          `Plugin id "${manifest.id}" belongs to another publisher; choose another id.`,
        );
      }
      if (!pluginId) {
        const { rows } = await client.query(
          `INSERT INTO plugins (publisher_id, plugin_key, name, description) VALUES ($1, $2, $3, $4) RETURNING id`,
          [publisher.id, manifest.id, manifest.name, manifest.description],
        );
        pluginId = rows[0].id as string;
      } else {
        await client.query('UPDATE plugins SET name = $2, description = $3 WHERE id = $1', [
          pluginId,
          manifest.name,
          manifest.description,
        ]);
      }
      const { rows } = await client.query(
        `WITH v AS (
           INSERT INTO plugin_versions (plugin_id, version, manifest, package, integrity, key_id, changelog, published_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *)
         SELECT ${PLUGIN_VERSION_COLUMNS} FROM v JOIN plugins p ON p.id = v.plugin_id`,
        [
          pluginId,
          manifest.version,
          JSON.stringify(manifest),
          JSON.stringify(input.package),
          verified.integrity,
          verified.keyId,
          changelog,
          actor.userId,
        ],
      );
      const published = rows[0] as PluginVersionRow;
      // The package itself stays in the catalog; the event identifies it by integrity and key.
      await recordAudit(client, actor.tenantId, actor.audit, {
        action: 'pluginVersion.published',
        subject: { type: 'pluginVersion', id: published.id },
        data: {
          plugin: published.pluginKey,
          version: published.version,
          integrity: published.integrity,
          keyId: published.keyId,
        },
      });
      return published;
    });
  } catch (error) {
    if ((error as { constraint?: string }).constraint === 'plugin_versions_plugin_id_version_key') {
      throw conflict(
        'That version is already published; versions are immutable: bump the version and pack again.',
      );
    }
    throw error;
  }
}

/** True when the signed-in person's e-mail is in the configured platform-admin list. */
export async function isPlatformAdmin(
  appPool: Pool,
  actor: CatalogActor,
  platformAdmins: readonly string[],
): Promise<boolean> {
  if (platformAdmins.length === 0) return false;
  const { rows } = await withTenant(appPool, actor.tenantId, ({ client }) =>
    client.query('SELECT email FROM users WHERE id = $1', [actor.userId]),
  );
  const email = String(rows[0]?.email ?? '').toLowerCase();
  return email !== '' && platformAdmins.some((admin) => admin.trim().toLowerCase() === email);
}

/** Approves or rejects a pending version; only platform admins, and a decision is final. */
export async function reviewPluginVersion(
  appPool: Pool,
  actor: CatalogActor,
  platformAdmins: readonly string[],
  input: { id: string; decision: 'approved' | 'rejected'; note?: string | null },
): Promise<PluginVersionRow> {
  if (!(await isPlatformAdmin(appPool, actor, platformAdmins))) {
    throw new ApiError(
      'FORBIDDEN',
      'Only platform admins (ROSTER_PLATFORM_ADMINS) review plugin versions.',
    );
  }
  return withTenant(appPool, actor.tenantId, async ({ client }) => {
    const { rows: current } = await client.query(
      'SELECT review_state FROM plugin_versions WHERE id = $1',
      [input.id],
    );
    if (!current[0]) throw notFound('That plugin version');
    if (current[0].review_state !== 'pending') {
      throw conflict(
        `That version was already ${current[0].review_state}; a review decision is final.`,
      );
    }
    const { rows: who } = await client.query('SELECT email FROM users WHERE id = $1', [
      actor.userId,
    ]);
    const { rows } = await client.query(
      `WITH v AS (
         UPDATE plugin_versions SET review_state = $2, review_note = $3, reviewed_by = $4, reviewed_at = now()
          WHERE id = $1 RETURNING *)
       SELECT ${PLUGIN_VERSION_COLUMNS} FROM v JOIN plugins p ON p.id = v.plugin_id`,
      [
        input.id,
        input.decision,
        (input.note ?? '').slice(0, 2000) || null,
        who[0]?.email ?? actor.userId,
      ],
    );
    const reviewed = rows[0] as PluginVersionRow;
    await recordAudit(client, actor.tenantId, actor.audit, {
      action: 'pluginVersion.reviewed',
      subject: { type: 'pluginVersion', id: reviewed.id },
      before: { reviewState: 'pending' },
      after: { reviewState: reviewed.reviewState, reviewNote: reviewed.reviewNote },
      data: { plugin: reviewed.pluginKey, version: reviewed.version },
    });
    return reviewed;
  });
}
