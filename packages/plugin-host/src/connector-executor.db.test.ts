import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { withTenant } from '@roster/db';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPublisher } from '../test/verified.js';
import {
  bundlePlugin,
  type ConnectorCall,
  createConnectorExecutor,
  createEgressPolicy,
  createHttpEgress,
  createLocalKeyProvider,
  createSandbox,
  type InTenant,
  type PluginPackage,
  packPlugin,
  sealConnectionSecrets,
} from './index.js';

const db = await createTestDatabase();
const keyProvider = createLocalKeyProvider({ masterKey: randomBytes(32).toString('base64') });
const inTenant: InTenant = (tenantId, fn) =>
  withTenant(db.appPool, tenantId, ({ client }) => fn(client));
const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
const hangClosed = new Set<string>();
const peer = createServer((req, res) => {
  seen.push({ url: req.url ?? '', headers: req.headers });
  // Never answered: only a cancelled invocation ends these.
  if (req.url?.startsWith('/hang')) {
    res.on('close', () => hangClosed.add(req.url!));
    return;
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ auth: req.headers.authorization === `Bearer ${CANARY}` }));
});
const CANARY = `canary-${randomUUID()}`;
let peerUrl: string;
let pkg: PluginPackage;
const sandbox = createSandbox();
const egress = createHttpEgress({ policy: createEgressPolicy({ allow: ['127.0.0.1'] }) });
const execute = createConnectorExecutor({
  inTenant,
  keyProvider,
  invoker: {
    invoke: (request) => sandbox.invokeAction({ ...request, capabilities: { http: egress } }),
  },
  toStepError: (error, fatal) => Object.assign(error, { fatal }),
});

beforeAll(async () => {
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
  peerUrl = `http://127.0.0.1:${(peer.address() as AddressInfo).port}`;
  const entry = fileURLToPath(new URL('../test/fixtures/http-echo.plugin.ts', import.meta.url));
  pkg = packPlugin(await bundlePlugin(entry), testPublisher);
});
afterAll(async () => {
  peer.closeAllConnections();
  await new Promise<void>((resolve) => peer.close(() => resolve()));
  await db.drop();
});

let publisherId: string | undefined;

/** The marketplace's record of the publisher that signed the package, with its key. */
async function registerTestPublisher(): Promise<string> {
  const owner = await createTenant(db.ownerPool);
  const { rows } = await db.ownerPool.query(
    'INSERT INTO publishers (name, owner_tenant_id) VALUES ($1, $2) RETURNING id',
    [testPublisher.publisher, owner.id],
  );
  await db.ownerPool.query(
    `INSERT INTO publisher_keys (publisher_id, key_id, algorithm, public_key) VALUES ($1, $2, 'ed25519', $3)`,
    [rows[0].id, testPublisher.keyId, testPublisher.publicKey],
  );
  return rows[0].id as string;
}

/** A tenant that installed the http-echo plugin (granting `granted`) with one connection. */
async function installed(granted: string[], pluginPackage: unknown = pkg) {
  const tenant = await createTenant(db.ownerPool);
  const q = (sql: string, params: unknown[]) => db.ownerPool.query(sql, params);
  publisherId ??= await registerTestPublisher();
  const key = `http-echo-${randomBytes(3).toString('hex')}`;
  const plugin = await q(
    `INSERT INTO plugins (publisher_id, plugin_key, name) VALUES ($1, $2, 'Echo') RETURNING id`,
    [publisherId, key],
  );
  const version = await q(
    `INSERT INTO plugin_versions (plugin_id, version, manifest, package, integrity, key_id, review_state)
     VALUES ($1, '1.0.0', $2, $3, $4, $5, 'approved') RETURNING id`,
    [
      plugin.rows[0].id,
      JSON.stringify(pkg.manifest),
      JSON.stringify(pluginPackage),
      pkg.integrity,
      pkg.signature.keyId,
    ],
  );
  const inst = await q(
    `INSERT INTO installations (tenant_id, plugin_id, plugin_version_id, granted_capabilities) VALUES ($1, $2, $3, $4) RETURNING id`,
    [tenant.id, plugin.rows[0].id, version.rows[0].id, JSON.stringify(granted)],
  );
  const connectionId = randomUUID();
  await inTenant(tenant.id, async (client) => {
    const sealed = await sealConnectionSecrets(
      client,
      keyProvider,
      { tenantId: tenant.id, connectionId },
      { token: CANARY },
    );
    await client.query(
      `INSERT INTO connections (tenant_id, id, installation_id, name, ciphertext, iv, tag, key_version)
       VALUES ($1, $2, $3, 'main', $4, $5, $6, $7)`,
      [
        tenant.id,
        connectionId,
        inst.rows[0].id,
        sealed.ciphertext,
        sealed.iv,
        sealed.tag,
        sealed.keyVersion,
      ],
    );
  });
  return { tenantId: tenant.id, pluginKey: key };
}

function call(t: { tenantId: string; pluginKey: string }): ConnectorCall {
  const runId = randomUUID();
  return {
    tenantId: t.tenantId,
    runId,
    stepId: 'get',
    attempt: 1,
    idempotencyKey: `${runId}/get`,
    input: { url: `${peerUrl}/x` },
    signal: new AbortController().signal,
    deadline: new Date(Date.now() + 30_000),
    step: { type: 'connector', connector: t.pluginKey, action: 'get' } as ConnectorCall['step'],
  };
}

describe('connector executor', () => {
  it('runs the installed action with the decrypted connection and the step idempotency key', async () => {
    const t = await installed(['http']);
    const c = call(t);
    const result = await execute(c);
    expect(result.output).toEqual({ status: 200, body: { auth: true } });
    expect(seen.at(-1)?.headers['idempotency-key']).toBe(c.idempotencyKey);
  });

  it('refuses a host call the installation did not grant (fatal, nothing sent)', async () => {
    const t = await installed([]);
    const before = seen.length;
    await expect(execute(call(t))).rejects.toMatchObject({ code: 'FORBIDDEN', fatal: true });
    expect(seen.length).toBe(before);
  });

  it("cancels the plugin's invocation when the engine aborts the step's signal (not fatal)", async () => {
    const t = await installed(['http']);
    const controller = new AbortController();
    const c = { ...call(t), input: { url: `${peerUrl}/hang` }, signal: controller.signal };
    const pending = execute(c);
    while (!seen.some((s) => s.url === '/hang'))
      await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED', fatal: false });
    const closedBy = Date.now() + 2000;
    while (!hangClosed.has('/hang') && Date.now() < closedBy)
      await new Promise((resolve) => setTimeout(resolve, 5));
    expect(hangClosed.has('/hang')).toBe(true);
  });

  it('verifies the stored package again before any code runs', async () => {
    const tampered = { ...pkg, code: `${pkg.code};globalThis.tampered = 1;` };
    const t = await installed(['http'], tampered);
    const before = seen.length;
    const error = await execute(call(t)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INTEGRITY_MISMATCH', fatal: true });
    expect(String((error as Error).message)).not.toContain(CANARY);
    expect(seen.length).toBe(before);
  });
});
