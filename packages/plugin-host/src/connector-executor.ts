import type { ConnectorStep } from '@roster/core';
import type { CapabilityName } from '@roster/plugin-sdk';
import { isPluginHostError, PluginHostError } from './errors.js';
import type { KvCapability } from './host-bridge.js';
import type { PublisherPublicKey } from './publisher-key.js';
import type { InvokeRequest, InvokeResult, SandboxLimits } from './sandbox.js';
import {
  type InTenant,
  openConnectionSecrets,
  type SqlClient,
} from './secrets/connection-vault.js';
import type { KeyProvider } from './secrets/key-provider.js';
import { redactSecrets } from './secrets/redact.js';
import type { VerifiedPlugin } from './verified-plugin.js';
import { verifyPackage } from './verify-package.js';

/** The engine's connector call (structurally @roster/engine's `ExecutorCall & { step }`). */
export interface ConnectorCall {
  readonly tenantId: string;
  readonly runId: string;
  readonly stepId: string;
  readonly attempt: number;
  readonly idempotencyKey: string;
  readonly input: unknown;
  readonly signal: AbortSignal;
  readonly deadline: Date;
  readonly step: ConnectorStep;
}

/** Anything that runs verified plugins: the PluginPool (or a Sandbox bound to capabilities). */
export interface PluginInvoker {
  invoke(request: InvokeRequest): Promise<InvokeResult>;
}

export interface ConnectorExecutorOptions {
  /** One transaction under the tenant's RLS context (e.g. withTenant from @roster/db). */
  readonly inTenant: InTenant;
  readonly keyProvider: KeyProvider;
  readonly invoker: PluginInvoker;
  /** Sandbox limits per invocation. Default: the sandbox's (5 s, 32 MiB). */
  readonly limits?: SandboxLimits;
  /**
   * Turns a refusal or failure into the error the engine records (e.g. its StepFailure, fatal for
   * refusals a retry cannot fix). Default: the PluginHostError itself (retried by the engine).
   */
  readonly toStepError?: (error: PluginHostError, fatal: boolean) => Error;
  /**
   * The `kv` capability of one installation (e.g. createPostgresKv). Built per invocation for the
   * loaded installation, so a plugin only ever reaches its own state; calls still need the grant.
   * Default: none (kv calls are refused as not provided).
   */
  readonly kvFor?: (binding: { tenantId: string; installationId: string }) => KvCapability;
}

/** Failures a retry cannot fix: the installation, grant or package is wrong. */
const FATAL_CODES = new Set([
  'FORBIDDEN',
  'PLUGIN_UNVERIFIED',
  'PACKAGE_MALFORMED',
  'INTEGRITY_MISMATCH',
  'SIGNATURE_INVALID',
  'UNKNOWN_PUBLISHER',
  'UNKNOWN_ACTION',
  'INPUT_INVALID',
  'EGRESS_DENIED',
  'DECRYPT_FAILED',
  'DATA_KEY_MISSING',
  'MASTER_KEY_INVALID',
  'KV_KEY_INVALID',
  'KV_VALUE_INVALID',
  // Not CANCELLED: the engine aborts the signal when the step timed out (a retry may well succeed)
  // or its run ended (the engine discards that step's result, fatal or not).
]);

/** An installed plugin ready to run: its package verified again, its grant, its connection. */
export interface LoadedInstallation {
  readonly plugin: VerifiedPlugin;
  readonly installationId: string;
  readonly grantedScopes: readonly CapabilityName[];
  readonly connectionId?: string;
  readonly secrets: Record<string, string>;
}

interface InstallationRow extends Record<string, unknown> {
  installation_id: string;
  granted_capabilities: CapabilityName[];
  package: unknown;
  review_state: string;
  publisher_id: string;
  publisher: string;
}

/** Publisher keys (not revoked) the package is checked against: the marketplace's, not the package's. */
async function publisherKeys(client: SqlClient, publisherId: string, publisher: string) {
  const { rows } = await client.query<{ key_id: string; public_key: string }>(
    `SELECT key_id, public_key FROM publisher_keys WHERE publisher_id = $1 AND revoked_at IS NULL`,
    [publisherId],
  );
  return rows.map(
    (r): PublisherPublicKey => ({
      publisher,
      keyId: r.key_id,
      algorithm: 'ed25519',
      publicKey: r.public_key,
    }),
  );
}

/**
 * Loads the tenant's active installation of `pluginKey`, verifies its package (integrity and
 * signature against the publisher's registered keys) and decrypts the named connection (or the
 * installation's only one). The secrets live only in the returned object.
 */
export async function loadInstallation(
  client: SqlClient,
  keyProvider: KeyProvider,
  target: { tenantId: string; pluginKey?: string; installationId?: string; connection?: string },
): Promise<LoadedInstallation> {
  const { rows } = await client.query<InstallationRow>(
    `SELECT i.id AS installation_id, i.granted_capabilities, v.package, v.review_state,
            pb.id AS publisher_id, pb.name AS publisher
       FROM installations i
       JOIN plugin_versions v ON v.id = i.plugin_version_id
       JOIN plugins p ON p.id = i.plugin_id
       JOIN publishers pb ON pb.id = p.publisher_id
      WHERE i.tenant_id = $1 AND i.status = 'active'
        AND ($2::text IS NULL OR p.plugin_key = $2) AND ($3::uuid IS NULL OR i.id = $3)`,
    [target.tenantId, target.pluginKey ?? null, target.installationId ?? null],
  );
  const row = rows[0];
  if (!row) {
    throw new PluginHostError(
      'FORBIDDEN',
      `Plugin "${target.pluginKey ?? target.installationId}" is not installed in this tenant: install it from the marketplace first.`,
      { plugin: target.pluginKey ?? target.installationId },
    );
  }
  if (row.review_state !== 'approved') {
    throw new PluginHostError(
      'PLUGIN_UNVERIFIED',
      'The installed plugin version is not approved for the marketplace; install an approved version.',
    );
  }
  const plugin = verifyPackage(
    row.package,
    await publisherKeys(client, row.publisher_id, row.publisher),
  );

  const { rows: connections } = await client.query<{
    id: string;
    name: string;
    ciphertext: Buffer;
    iv: Buffer;
    tag: Buffer;
    key_version: number;
  }>(
    `SELECT id, name, ciphertext, iv, tag, key_version FROM connections
      WHERE tenant_id = $1 AND installation_id = $2 AND ($3::text IS NULL OR name = $3)
      ORDER BY created_at LIMIT 2`,
    [target.tenantId, row.installation_id, target.connection ?? null],
  );
  const base = {
    plugin,
    installationId: row.installation_id,
    grantedScopes: row.granted_capabilities,
  };
  if (connections.length === 0) {
    if (target.connection !== undefined || plugin.manifest.connection) {
      throw new PluginHostError(
        'FORBIDDEN',
        `Plugin "${plugin.manifest.id}" needs a connection${target.connection ? ` named "${target.connection}"` : ''}: create one for its installation.`,
      );
    }
    return { ...base, secrets: {} };
  }
  if (connections.length > 1 && target.connection === undefined) {
    throw new PluginHostError(
      'FORBIDDEN',
      `Plugin "${plugin.manifest.id}" has several connections: name one in the step's "connection".`,
    );
  }
  const c = connections[0]!;
  const secrets = await openConnectionSecrets(
    client,
    keyProvider,
    { tenantId: target.tenantId, connectionId: c.id },
    { ciphertext: c.ciphertext, iv: c.iv, tag: c.tag, keyVersion: c.key_version },
  );
  return { ...base, connectionId: c.id, secrets };
}

/**
 * The engine's `connector` step executor: loads and re-verifies the installed plugin, decrypts
 * its connection for this invocation only, and runs the action in the plugin pool with the
 * installation's granted scopes and the step's idempotency key. Register it with
 * `new ExecutorRegistry().registerConnector(createConnectorExecutor({...}))`.
 */
export function createConnectorExecutor(options: ConnectorExecutorOptions) {
  const toStepError = options.toStepError ?? ((error: PluginHostError) => error);
  const fail = (error: unknown, secrets: Readonly<Record<string, string>>): Error => {
    const typed = isPluginHostError(error)
      ? error
      : new PluginHostError(
          'ACTION_FAILED',
          error instanceof Error ? error.message : String(error),
        );
    // A plugin's message may echo its credentials: they must not reach step results or logs.
    const message = redactSecrets(typed.message, secrets);
    const safe =
      message === typed.message ? typed : new PluginHostError(typed.code, message, typed.details);
    return toStepError(safe, FATAL_CODES.has(safe.code));
  };
  return async (call: ConnectorCall): Promise<{ output: unknown }> => {
    let loaded: LoadedInstallation;
    try {
      loaded = await options.inTenant(call.tenantId, (client) =>
        loadInstallation(client, options.keyProvider, {
          tenantId: call.tenantId,
          pluginKey: call.step.connector,
          ...(call.step.connection === undefined ? {} : { connection: call.step.connection }),
        }),
      );
    } catch (error) {
      throw fail(error, {});
    }
    const budget = Math.max(1, call.deadline.getTime() - Date.now());
    const timeoutMs = Math.min(options.limits?.timeoutMs ?? 5000, budget);
    try {
      const result = await options.invoker.invoke({
        plugin: loaded.plugin,
        actionId: call.step.action,
        input: call.input ?? {},
        secrets: loaded.secrets,
        grantedScopes: loaded.grantedScopes,
        idempotencyKey: call.idempotencyKey,
        installationId: loaded.installationId,
        ...(loaded.connectionId === undefined ? {} : { connectionId: loaded.connectionId }),
        limits: { ...options.limits, timeoutMs },
        // Stops the guest and its HTTP calls (freeing the pool slot) once the engine gives up.
        signal: call.signal,
        ...(options.kvFor && loaded.grantedScopes.includes('kv')
          ? {
              boundCapabilities: {
                kv: options.kvFor({
                  tenantId: call.tenantId,
                  installationId: loaded.installationId,
                }),
              },
            }
          : {}),
      });
      return { output: result.output };
    } catch (error) {
      throw fail(error, loaded.secrets);
    }
  };
}
