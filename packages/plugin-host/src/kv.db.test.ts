// Plugin kv on Postgres, driven from inside the real sandbox through the connector executor:
// state persists across invocations, and no key, prefix or host call reaches another
// installation's or tenant's state or secrets. Each attempt ends in a clear result or typed
// error, and the host keeps serving afterwards.
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { withTenant } from '@roster/db';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPublisher } from '../test/verified.js';
import {
  bundlePlugin,
  type ConnectorCall,
  createConnectorExecutor,
  createHostDispatch,
  createPluginPool,
  createPostgresKv,
  createSandbox,
  type InTenant,
  type PluginHostError,
  type PluginPackage,
  packPlugin,
  sealConnectionSecrets,
  verifyPackage,
} from './index.js';
import { createLocalKeyProvider } from './secrets/key-provider.js';

const db = await createTestDatabase();
const keyProvider = createLocalKeyProvider({ masterKey: randomBytes(32).toString('base64') });
const inTenant: InTenant = (tenantId, fn) =>
  withTenant(db.appPool, tenantId, ({ client }) => fn(client));
const kvFor = (b: { tenantId: string; installationId: string }) =>
  createPostgresKv({ inTenant, ...b });
const sandbox = createSandbox();
const execute = createConnectorExecutor({
  inTenant,
  keyProvider,
  invoker: { invoke: (request) => sandbox.invokeAction({ ...request, capabilities: {} }) },
  kvFor,
  toStepError: (error, fatal) => Object.assign(error, { fatal }),
});
let pkg: PluginPackage;
let publisherId: string;
let pluginId: string;
let versionId: string;

interface Installed {
  tenantId: string;
  installationId: string;
  canary: string;
  connectionName: string;
}
let a: Installed;
let b: Installed;

async function install(granted: string[]): Promise<Installed> {
  const tenant = await createTenant(db.ownerPool);
  const { rows } = await db.ownerPool.query(
    `INSERT INTO installations (tenant_id, plugin_id, plugin_version_id, granted_capabilities)
     VALUES ($1, $2, $3, $4) RETURNING id`,
    [tenant.id, pluginId, versionId, JSON.stringify(granted)],
  );
  const installationId = rows[0].id as string;
  const canary = `canary-${randomUUID()}`;
  const connectionName = `conn-${installationId.slice(0, 8)}`;
  const connectionId = randomUUID();
  await inTenant(tenant.id, async (client) => {
    const sealed = await sealConnectionSecrets(
      client,
      keyProvider,
      { tenantId: tenant.id, connectionId },
      { token: canary },
    );
    await client.query(
      `INSERT INTO connections (tenant_id, id, installation_id, name, ciphertext, iv, tag, key_version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        tenant.id,
        connectionId,
        installationId,
        connectionName,
        sealed.ciphertext,
        sealed.iv,
        sealed.tag,
        sealed.keyVersion,
      ],
    );
  });
  return { tenantId: tenant.id, installationId, canary, connectionName };
}

beforeAll(async () => {
  const entry = fileURLToPath(new URL('../test/fixtures/probe.plugin.ts', import.meta.url));
  pkg = packPlugin(await bundlePlugin(entry), testPublisher);
  const owner = await createTenant(db.ownerPool);
  const q = (sql: string, params: unknown[]) => db.ownerPool.query(sql, params);
  publisherId = (
    await q('INSERT INTO publishers (name, owner_tenant_id) VALUES ($1, $2) RETURNING id', [
      testPublisher.publisher,
      owner.id,
    ])
  ).rows[0].id;
  await q(
    `INSERT INTO publisher_keys (publisher_id, key_id, algorithm, public_key) VALUES ($1, $2, 'ed25519', $3)`,
    [publisherId, testPublisher.keyId, testPublisher.publicKey],
  );
  pluginId = (
    await q(
      `INSERT INTO plugins (publisher_id, plugin_key, name) VALUES ($1, 'probe', 'Probe') RETURNING id`,
      [publisherId],
    )
  ).rows[0].id;
  versionId = (
    await q(
      `INSERT INTO plugin_versions (plugin_id, version, manifest, package, integrity, key_id, review_state)
       VALUES ($1, '0.1.0', $2, $3, $4, $5, 'approved') RETURNING id`,
      [
        pluginId,
        JSON.stringify(pkg.manifest),
        JSON.stringify(pkg),
        pkg.integrity,
        pkg.signature.keyId,
      ],
    )
  ).rows[0].id;
  // The same plugin installed in two tenants, both granted kv.
  a = await install(['kv']);
  b = await install(['kv']);
}, 60_000);

afterAll(async () => {
  await db.drop();
});

function call(t: { tenantId: string }, body: string, connection?: string): ConnectorCall {
  // A script that returns nothing still meets the probe's output schema.
  const script = `${body}\nreturn null;`;
  const runId = randomUUID();
  return {
    tenantId: t.tenantId,
    runId,
    stepId: 'probe',
    attempt: 1,
    idempotencyKey: `${runId}/probe/1`,
    input: { script },
    signal: new AbortController().signal,
    deadline: new Date(Date.now() + 30_000),
    step: {
      type: 'connector',
      connector: 'probe',
      action: 'run',
      ...(connection === undefined ? {} : { connection }),
    } as ConnectorCall['step'],
  };
}

async function runIn(t: { tenantId: string }, script: string): Promise<unknown> {
  const { output } = await execute(call(t, script));
  return (output as { result: unknown }).result;
}

async function failureOf(promise: Promise<unknown>): Promise<PluginHostError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as PluginHostError;
}

/** Tenant A's plugin still works after an attempt: its own counter moves by one. */
async function expectStillServing() {
  const before = (await runIn(a, `return (await ctx.kv.get('alive')) ?? 0;`)) as number;
  const after = await runIn(
    a,
    `const n = (await ctx.kv.get('alive')) ?? 0; await ctx.kv.set('alive', n + 1); return n + 1;`,
  );
  expect(after).toBe(before + 1);
}

async function rowsOf(t: Installed) {
  const { rows } = await db.ownerPool.query(
    'SELECT key, value FROM plugin_kv WHERE tenant_id = $1 AND installation_id = $2 ORDER BY key',
    [t.tenantId, t.installationId],
  );
  return rows as { key: string; value: unknown }[];
}

describe('plugin kv in the sandbox', () => {
  it('keeps state across two invocations of an action', async () => {
    const counter = `const n = (await ctx.kv.get('count')) ?? 0;
      await ctx.kv.set('count', n + 1); await ctx.kv.set('last', { n: n + 1, tags: ['x'] });
      return n + 1;`;
    expect(await runIn(a, counter)).toBe(1);
    expect(await runIn(a, counter)).toBe(2);
    expect(await runIn(a, `return await ctx.kv.get('last');`)).toEqual({ n: 2, tags: ['x'] });
    expect(await rowsOf(a)).toEqual(
      expect.arrayContaining([
        { key: 'count', value: 2 },
        { key: 'last', value: { n: 2, tags: ['x'] } },
      ]),
    );
  });

  it('lists by prefix (plain characters, sorted) and deletes', async () => {
    await runIn(
      a,
      `for (const k of ['p/b', 'p/a', 'p%', 'q/1']) await ctx.kv.set(k, k); await ctx.kv.delete('p/b');`,
    );
    expect(await runIn(a, `return await ctx.kv.list('p/');`)).toEqual(['p/a']);
    expect(await runIn(a, `return await ctx.kv.list('p%');`)).toEqual(['p%']);
    expect(await runIn(a, `return await ctx.kv.get('p/b');`)).toBeNull();
  });

  it('runs through the process pool too (the bound kv stays in the parent)', async () => {
    const pool = createPluginPool({ capabilities: {}, size: 1 });
    try {
      const viaPool = createConnectorExecutor({ inTenant, keyProvider, invoker: pool, kvFor });
      const { output } = await viaPool(
        call(a, `await ctx.kv.set('pool', 'yes'); return await ctx.kv.get('pool');`),
      );
      expect(output).toEqual({ result: 'yes' });
      expect(await rowsOf(a)).toContainEqual({ key: 'pool', value: 'yes' });
    } finally {
      await pool.close();
    }
  });

  it('refuses kv to an installation without the grant with FORBIDDEN', async () => {
    const ungranted = await install([]);
    const error = await failureOf(execute(call(ungranted, `return await ctx.kv.get('count');`)));
    expect(error).toMatchObject({ code: 'FORBIDDEN', fatal: true });
    expect(error.message).toMatch(/not granted the "kv" scope/);
    expect(await rowsOf(ungranted)).toEqual([]);
    await expectStillServing();
  });

  it.each([
    ['a key over 256 characters', `await ctx.kv.set('k'.repeat(257), 1);`, 'KV_KEY_INVALID'],
    ['an empty key', `await ctx.kv.set('', 1);`, 'KV_KEY_INVALID'],
    ['a value over 64 KiB', `await ctx.kv.set('big', 'x'.repeat(65 * 1024));`, 'KV_VALUE_INVALID'],
    ['an undefined value', `await ctx.kv.set('u', undefined);`, 'KV_VALUE_INVALID'],
    ['a non-string key', `await ctx.kv.get({ installationId: 'x' });`, 'FORBIDDEN'],
  ])('refuses %s with a typed error', async (_case, script, code) => {
    const error = await failureOf(execute(call(a, script)));
    expect(error.code).toBe(code);
    expect(await rowsOf(a)).not.toContainEqual(expect.objectContaining({ key: 'big' }));
    await expectStillServing();
  });

  it('caps the keys one installation holds (KV_QUOTA_EXCEEDED); overwrites still work', async () => {
    const t = await install(['kv']);
    const kv = createPostgresKv({ inTenant, ...t, limits: { maxKeys: 2 } });
    const info = {
      pluginId: 'probe',
      pluginVersion: '0.1.0',
      actionId: 'run',
      idempotencyKey: 'k',
      installationId: t.installationId,
    };
    await kv.set('one', 1, undefined, info);
    await kv.set('two', 2, undefined, info);
    await expect(kv.set('three', 3, undefined, info)).rejects.toMatchObject({
      code: 'KV_QUOTA_EXCEEDED',
    });
    await kv.set('two', 22, undefined, info);
    expect(await kv.get('two', info)).toBe(22);
    // A key past its ttl is gone and frees its place.
    const later = createPostgresKv({
      inTenant,
      ...t,
      limits: { maxKeys: 2 },
      now: () => new Date(Date.now() + 120_000),
    });
    await kv.set('two', 2, 60, info);
    expect(await later.get('two', info)).toBeNull();
    expect(await later.list('', info)).toEqual(['one']);
    await later.set('three', 3, undefined, info);
    expect(await later.list('', info)).toEqual(['one', 'three']);
  });

  it('deletes an installation’s kv when it is uninstalled', async () => {
    const t = await install(['kv']);
    await runIn(t, `await ctx.kv.set('state', 1);`);
    expect(await rowsOf(t)).toHaveLength(1);
    await withTenant(db.appPool, t.tenantId, ({ client }) =>
      client.query(`UPDATE installations SET status = 'uninstalled' WHERE id = $1`, [
        t.installationId,
      ]),
    );
    expect(await rowsOf(t)).toEqual([]);
  });
});

describe('kv and secrets across tenants (the same plugin installed in A and B)', () => {
  beforeAll(async () => {
    await runIn(
      b,
      `await ctx.kv.set('shared', 'B-private');
       await ctx.kv.set(${JSON.stringify(`${b.tenantId}/${b.installationId}/shared`)}, 'B-private');
       await ctx.kv.set('token', ctx.secrets.token);`,
    );
  });

  it("B's own plugin reads its state (the fixture is real)", async () => {
    expect(await runIn(b, `return await ctx.kv.get('shared');`)).toBe('B-private');
    expect(await rowsOf(b)).toContainEqual({ key: 'token', value: b.canary });
  });

  it.each([
    ['the same key', `return await ctx.kv.get('shared');`, null],
    ['the key B stores its token under', `return await ctx.kv.get('token');`, null],
    ["a key naming B's tenant and installation", 'KEY_B', null],
    ["B's installation id as a key", 'INST_B', null],
    ['a SQL-ish key', `return await ctx.kv.get("shared' OR '1'='1");`, null],
    ['a LIKE wildcard prefix', `return await ctx.kv.list('%');`, []],
    ['extra host-call arguments naming B', 'EXTRA_ARGS', null],
  ])("cannot read B's kv through %s", async (_case, script, expected) => {
    const resolved = script
      .replace(
        'KEY_B',
        `return await ctx.kv.get(${JSON.stringify(`${b.tenantId}/${b.installationId}/shared`)});`,
      )
      .replace('INST_B', `return await ctx.kv.get(${JSON.stringify(b.installationId)});`)
      .replace(
        'EXTRA_ARGS',
        // ctx.kv only forwards the key; the bound capability ignores anything else.
        `return await ctx.kv.get('shared', { installationId: ${JSON.stringify(b.installationId)}, tenantId: ${JSON.stringify(b.tenantId)} });`,
      );
    expect(await runIn(a, resolved)).toEqual(expected);
    await expectStillServing();
  });

  it("list('') shows only A's own keys", async () => {
    const keys = (await runIn(a, `return await ctx.kv.list('');`)) as string[];
    expect(keys).toEqual((await rowsOf(a)).map((r) => r.key).sort());
    expect(keys).not.toContain('shared');
    expect(keys).not.toContain('token');
    await expectStillServing();
  });

  it("A's writes to B's key names land in A's own installation", async () => {
    await runIn(a, `await ctx.kv.set('shared', 'A-wrote'); await ctx.kv.delete('token');`);
    expect(await runIn(b, `return await ctx.kv.get('shared');`)).toBe('B-private');
    expect(await rowsOf(b)).toContainEqual({ key: 'token', value: b.canary });
    expect(await rowsOf(a)).toContainEqual({ key: 'shared', value: 'A-wrote' });
  });

  it("ctx exposes only A's own connection: B's secret appears nowhere", async () => {
    const seen = (await runIn(
      a,
      `return JSON.stringify({ secrets: ctx.secrets, keys: Object.keys(ctx), all: await ctx.kv.list('') });`,
    )) as string;
    expect(seen).toContain(a.canary);
    expect(seen).not.toContain(b.canary);
  });

  it("refuses a step that names B's connection (FORBIDDEN) and keeps serving", async () => {
    const error = await failureOf(execute(call(a, 'return ctx.secrets;', b.connectionName)));
    expect(error).toMatchObject({ code: 'FORBIDDEN', fatal: true });
    expect(error.message).toContain(`needs a connection named "${b.connectionName}"`);
    expect(error.message).not.toContain(b.canary);
    await expectStillServing();
  });

  it('refuses any host method that would name another connection or installation', async () => {
    const plugin = verifyPackage(pkg, [
      {
        publisher: testPublisher.publisher,
        keyId: testPublisher.keyId,
        algorithm: 'ed25519',
        publicKey: testPublisher.publicKey,
      },
    ]);
    const dispatch = createHostDispatch(
      { kv: kvFor(a) },
      {
        manifest: plugin.manifest,
        actionId: 'run',
        grantedScopes: ['kv'],
        idempotencyKey: 'x',
        installationId: a.installationId,
      },
    );
    const signal = new AbortController().signal;
    for (const method of ['connection.get', 'secrets.get', 'installation.kv', 'kv.getFor']) {
      await expect(
        dispatch(method, { installationId: b.installationId, key: 'shared' }, signal),
      ).rejects.toMatchObject({
        code: 'FORBIDDEN',
        message: expect.stringMatching(/not a host API/),
      });
    }
    // A kv bound to A refuses host-call info naming B's installation.
    await expect(
      kvFor(a).get('shared', {
        pluginId: 'probe',
        pluginVersion: '0.1.0',
        actionId: 'run',
        idempotencyKey: 'x',
        installationId: b.installationId,
      }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(
      await dispatch('kv.get', { key: 'shared', installationId: b.installationId }, signal),
    ).toBe('A-wrote');
    await expectStillServing();
  });

  it("RLS alone keeps a kv bound to B's installation from reading it under A's tenant", async () => {
    const crossed = createPostgresKv({
      inTenant: (_tenantId, fn) => inTenant(a.tenantId, fn),
      tenantId: b.tenantId,
      installationId: b.installationId,
    });
    const info = {
      pluginId: 'probe',
      pluginVersion: '0.1.0',
      actionId: 'run',
      idempotencyKey: 'x',
    };
    expect(await crossed.get('shared', info)).toBeNull();
    expect(await crossed.list('', info)).toEqual([]);
  });
});
