import { randomUUID } from 'node:crypto';
import { recordAudit } from '@roster/audit';
import { subjectRecord } from '@roster/authz';
import { type Pool, withTenant } from '@roster/db';
import {
  checkSecrets,
  isPluginHostError,
  type KeyProvider,
  loadInstallation,
  redactSecrets,
  sealConnectionSecrets,
} from '@roster/plugin-host';
import { ApiError, badInput, conflict, notFound } from '../errors.js';
import type { MarketplaceOptions } from '../graphql/context.js';
import { type ConnectionRow, connectionById, installationById } from './installation-presenter.js';
import type { CatalogActor } from './plugin-catalog-service.js';

function keyProviderOf(options: MarketplaceOptions): KeyProvider {
  if (!options.keyProvider) {
    throw new ApiError(
      'INTERNAL',
      'This server has no master key: set ROSTER_MASTER_KEY (base64 of 32 bytes) and restart.',
    );
  }
  return options.keyProvider;
}

/** Shape errors only; the values are never echoed (they are secrets). */
function secretsOf(value: unknown): Record<string, string> {
  try {
    return checkSecrets(value);
  } catch (error) {
    throw badInput(
      'input.secrets',
      isPluginHostError(error) ? error.message : 'input.secrets is invalid.',
    );
  }
}

/** Encrypts and stores a tenant's credentials for an installation; only metadata comes back. */
export async function createConnection(
  appPool: Pool,
  actor: CatalogActor,
  options: MarketplaceOptions,
  input: { installationId: string; name: string; secrets: unknown },
): Promise<ConnectionRow> {
  const provider = keyProviderOf(options);
  const secrets = secretsOf(input.secrets);
  const name = input.name.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/.test(name)) {
    throw badInput(
      'input.name',
      'input.name must be 1-100 letters, digits, spaces, dots, dashes or underscores.',
    );
  }
  try {
    return await withTenant(appPool, actor.tenantId, async ({ client }) => {
      const installation = await installationById(client, actor.tenantId, input.installationId);
      if (installation?.status !== 'active') throw notFound('That installation');
      const id = randomUUID();
      const sealed = await sealConnectionSecrets(
        client,
        provider,
        { tenantId: actor.tenantId, connectionId: id },
        secrets,
      );
      await client.query(
        `INSERT INTO connections (tenant_id, id, installation_id, name, ciphertext, iv, tag, key_version, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          actor.tenantId,
          id,
          installation.id,
          name,
          sealed.ciphertext,
          sealed.iv,
          sealed.tag,
          sealed.keyVersion,
          actor.userId,
        ],
      );
      // Metadata only: the secrets are sealed above and never leave this function.
      await recordAudit(client, actor.tenantId, actor.audit, {
        action: 'connection.created',
        subject: { type: 'connection', id },
        after: { installationId: installation.id, name, keyVersion: sealed.keyVersion },
      });
      return (await connectionById(client, actor.tenantId, id)) as ConnectionRow;
    });
  } catch (error) {
    if (
      (error as { constraint?: string }).constraint ===
      'connections_tenant_id_installation_id_name_key'
    ) {
      throw conflict(`This installation already has a connection named "${name}".`);
    }
    throw error;
  }
}

async function ownedConnection(
  client: Parameters<typeof connectionById>[0],
  actor: CatalogActor,
  id: string,
  action: 'update' | 'delete',
): Promise<ConnectionRow> {
  const row = await connectionById(client, actor.tenantId, id);
  if (!row) throw notFound('That connection');
  actor.ability.assert(
    action,
    subjectRecord('Connection', { tenantId: actor.tenantId, createdBy: row.createdBy }),
  );
  return row;
}

/**
 * Re-encrypts a connection under the tenant's newest data key, with new secrets when given
 * (credential rotation) or the same ones (key rotation).
 */
export async function rotateConnection(
  appPool: Pool,
  actor: CatalogActor,
  options: MarketplaceOptions,
  input: { id: string; secrets?: unknown },
): Promise<ConnectionRow> {
  const provider = keyProviderOf(options);
  const replacement =
    input.secrets === undefined || input.secrets === null ? null : secretsOf(input.secrets);
  return withTenant(appPool, actor.tenantId, async ({ client }) => {
    const row = await ownedConnection(client, actor, input.id, 'update');
    let secrets: Record<string, string>;
    if (replacement) secrets = replacement;
    else {
      const loaded = await loadInstallation(client, provider, {
        tenantId: actor.tenantId,
        installationId: row.installationId,
        connection: row.name,
      });
      secrets = loaded.secrets;
    }
    const sealed = await sealConnectionSecrets(
      client,
      provider,
      { tenantId: actor.tenantId, connectionId: row.id },
      secrets,
    );
    await client.query(
      `UPDATE connections SET ciphertext = $3, iv = $4, tag = $5, key_version = $6, updated_at = now()
        WHERE tenant_id = $1 AND id = $2`,
      [actor.tenantId, row.id, sealed.ciphertext, sealed.iv, sealed.tag, sealed.keyVersion],
    );
    await recordAudit(client, actor.tenantId, actor.audit, {
      action: 'connection.rotated',
      subject: { type: 'connection', id: row.id },
      data: { newSecrets: replacement !== null },
      before: { keyVersion: row.keyVersion },
      after: { keyVersion: sealed.keyVersion },
    });
    return (await connectionById(client, actor.tenantId, row.id)) as ConnectionRow;
  });
}

export async function deleteConnection(
  appPool: Pool,
  actor: CatalogActor,
  id: string,
): Promise<ConnectionRow> {
  return withTenant(appPool, actor.tenantId, async ({ client }) => {
    const row = await ownedConnection(client, actor, id, 'delete');
    await client.query('DELETE FROM connections WHERE tenant_id = $1 AND id = $2', [
      actor.tenantId,
      id,
    ]);
    await recordAudit(client, actor.tenantId, actor.audit, {
      action: 'connection.deleted',
      subject: { type: 'connection', id },
      before: { installationId: row.installationId, name: row.name, keyVersion: row.keyVersion },
    });
    return row;
  });
}

export interface ConnectionTestResult {
  ok: boolean;
  /** The failure's code (ACTION_FAILED, EGRESS_DENIED, ...), null on success. */
  code: string | null;
  message: string;
  durationMs: number;
}

/**
 * Runs the connector's test action (manifest.connection.test) in the sandbox with this
 * connection's decrypted secrets and the installation's grant. Failures come back as a result
 * (with secrets redacted from the message), not as an error.
 */
export async function testConnection(
  appPool: Pool,
  actor: CatalogActor,
  options: MarketplaceOptions,
  id: string,
): Promise<ConnectionTestResult> {
  const provider = keyProviderOf(options);
  const invoker = options.invoker;
  const loaded = await withTenant(appPool, actor.tenantId, async ({ client }) => {
    const row = await connectionById(client, actor.tenantId, id);
    if (!row) throw notFound('That connection');
    // Decrypt only when something will run the test.
    if (!invoker) {
      throw new ApiError(
        'INTERNAL',
        'This server runs no plugin pool; testConnection is unavailable here.',
      );
    }
    return loadInstallation(client, provider, {
      tenantId: actor.tenantId,
      installationId: row.installationId,
      connection: row.name,
    });
  });
  const testAction = loaded.plugin.manifest.connection?.test;
  if (!testAction) {
    throw badInput('input.id', `${loaded.plugin.manifest.id} declares no connection test action.`);
  }
  const started = Date.now();
  const result = await runTest(invoker as NonNullable<typeof invoker>, loaded, testAction, id);
  const outcome = { ...result, durationMs: Date.now() - started };
  // The test ran the connector against the outside world with the tenant's credentials: a side
  // effect worth a trace. The event keeps the outcome, not the message (it came from outside).
  await withTenant(appPool, actor.tenantId, ({ client }) =>
    recordAudit(client, actor.tenantId, actor.audit, {
      action: 'connection.tested',
      subject: { type: 'connection', id },
      data: { ok: outcome.ok, code: outcome.code, durationMs: outcome.durationMs },
    }),
  );
  return outcome;
}

async function runTest(
  invoker: NonNullable<MarketplaceOptions['invoker']>,
  loaded: Awaited<ReturnType<typeof loadInstallation>>,
  testAction: string,
  id: string,
): Promise<Omit<ConnectionTestResult, 'durationMs'>> {
  try {
    const result = await invoker.invoke({
      plugin: loaded.plugin,
      actionId: testAction,
      input: {},
      secrets: loaded.secrets,
      grantedScopes: loaded.grantedScopes,
      idempotencyKey: `test-connection/${id}/${randomUUID()}`,
      installationId: loaded.installationId,
      connectionId: id,
    });
    const output = result.output as { ok?: unknown; message?: unknown } | null;
    const ok = output?.ok !== false;
    const message =
      typeof output?.message === 'string' ? output.message : ok ? 'Connected.' : 'The test failed.';
    return { ok, code: null, message: redactSecrets(message, loaded.secrets) };
  } catch (error) {
    const code = isPluginHostError(error) ? error.code : 'ACTION_FAILED';
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, code, message: redactSecrets(message, loaded.secrets) };
  }
}
