import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundlePlugin, type PluginBundle } from './bundle.js';
import type { HostCapabilities, KvCapability } from './host-bridge.js';
import { type PluginPackage, packageIntegrity, packPlugin } from './plugin-package.js';
import { createPluginPool } from './pool.js';
import { generatePublisherKey, parsePublisherKey, publicKeyOf } from './publisher-key.js';
import { createSandbox } from './sandbox.js';
import { VerifiedPlugin } from './verified-plugin.js';
import { reissueVerified, verifyPackage } from './verify-package.js';

const entry = fileURLToPath(new URL('../test/fixtures/side-effect.plugin.ts', import.meta.url));
const acme = generatePublisherKey('acme');
const mallory = generatePublisherKey('mallory');
const trusted = [publicKeyOf(acme)];
const sandbox = createSandbox();
let bundle: PluginBundle;
let sideEffects: string[];
let capabilities: HostCapabilities;

beforeAll(async () => {
  bundle = await bundlePlugin(entry);
}, 60_000);

beforeAll(() => {
  sideEffects = [];
  const kv: KvCapability = {
    get: async () => null,
    set: async (key) => {
      sideEffects.push(key);
    },
    delete: async () => {},
    list: async () => [],
  };
  capabilities = { kv };
});

/** What an installation does with a package file: parse, verify, then (only then) run. */
async function installAndRun(file: string): Promise<unknown> {
  const plugin = verifyPackage(JSON.parse(file), trusted);
  const result = await sandbox.invokeAction({
    plugin,
    actionId: 'touch',
    input: {},
    grantedScopes: ['kv'],
    idempotencyKey: 'run/step/1',
    capabilities,
  });
  return result.output;
}

const fileOf = (pkg: PluginPackage) => JSON.stringify(pkg);

async function expectRefused(file: string, code: string) {
  const before = sideEffects.length;
  await expect(installAndRun(file)).rejects.toMatchObject({ code });
  expect(sideEffects.length).toBe(before);
}

describe('verifyPackage', () => {
  it('accepts a package signed by a trusted publisher, which then runs', async () => {
    const pkg = packPlugin(bundle, acme);
    expect(pkg.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
    expect(pkg.signature).toMatchObject({ publisher: 'acme', keyId: acme.keyId });
    const before = sideEffects.length;
    await expect(installAndRun(fileOf(pkg))).resolves.toEqual({ ran: true });
    expect(sideEffects.length).toBe(before + 1);
  });

  it('refuses altered code before any of it runs (INTEGRITY_MISMATCH)', async () => {
    const pkg = packPlugin(bundle, acme);
    await expectRefused(
      fileOf({ ...pkg, code: pkg.code.replace('"ran"', '"pwned"') }),
      'INTEGRITY_MISMATCH',
    );
  });

  it('refuses an altered manifest, e.g. a widened capability (INTEGRITY_MISMATCH)', async () => {
    const pkg = packPlugin(bundle, acme);
    const manifest = { ...pkg.manifest, capabilities: { ...pkg.manifest.capabilities, sql: {} } };
    await expectRefused(fileOf({ ...pkg, manifest }), 'INTEGRITY_MISMATCH');
  });

  it('refuses altered code with a recomputed integrity (SIGNATURE_INVALID)', async () => {
    const pkg = packPlugin(bundle, acme);
    const code = pkg.code.replace('"ran"', '"pwned"');
    await expectRefused(
      fileOf({ ...pkg, code, integrity: packageIntegrity(pkg.manifest, code) }),
      'SIGNATURE_INVALID',
    );
  });

  it('refuses a package signed by another key under the trusted name (SIGNATURE_INVALID)', async () => {
    const forged = packPlugin(bundle, { ...mallory, publisher: 'acme', keyId: acme.keyId });
    await expectRefused(fileOf(forged), 'SIGNATURE_INVALID');
  });

  it('refuses a package from a publisher the host does not trust (UNKNOWN_PUBLISHER)', async () => {
    await expectRefused(fileOf(packPlugin(bundle, mallory)), 'UNKNOWN_PUBLISHER');
    // A trusted name with a key id the host does not know (e.g. a rotated key) is refused too.
    const rotated = generatePublisherKey('acme');
    await expectRefused(fileOf(packPlugin(bundle, rotated)), 'UNKNOWN_PUBLISHER');
  });

  it('refuses what is not a package (PACKAGE_MALFORMED)', async () => {
    const pkg = packPlugin(bundle, acme);
    await expectRefused(JSON.stringify({ ...pkg, format: 'zip' }), 'PACKAGE_MALFORMED');
    await expectRefused(JSON.stringify({ ...pkg, manifest: { id: 'x' } }), 'PACKAGE_MALFORMED');
    const { signature: _omitted, ...unsigned } = pkg;
    await expectRefused(JSON.stringify(unsigned), 'PACKAGE_MALFORMED');
  });

  it('checks key files: a key id that does not match its key is refused', () => {
    expect(parsePublisherKey(JSON.parse(JSON.stringify(acme)), 'private')).toEqual(acme);
    expect(parsePublisherKey(publicKeyOf(acme), 'public')).toEqual(publicKeyOf(acme));
    expect(() =>
      parsePublisherKey({ ...publicKeyOf(acme), keyId: mallory.keyId }, 'public'),
    ).toThrow(/does not match/);
    expect(() => parsePublisherKey({ ...acme, privateKey: mallory.privateKey }, 'private')).toThrow(
      /does not belong/,
    );
  });
});

describe('only verified plugins reach the sandbox', () => {
  it('refuses unverified code in the sandbox and the pool, at compile time and at run time', async () => {
    const verified = verifyPackage(packPlugin(bundle, acme), trusted);
    const request = {
      actionId: 'touch',
      input: {},
      grantedScopes: ['kv' as const],
      idempotencyKey: 'run/step/1',
      capabilities,
    };
    const before = sideEffects.length;
    await expect(
      sandbox.invokeAction({
        ...request,
        // @ts-expect-error a plain { code, manifest } is not a VerifiedPlugin
        plugin: { code: bundle.code, manifest: bundle.manifest },
      }),
    ).rejects.toMatchObject({ code: 'PLUGIN_UNVERIFIED' });
    await expect(
      // @ts-expect-error a spread copy of a VerifiedPlugin (with other code) is not one either
      sandbox.invokeAction({ ...request, plugin: { ...verified, code: 'globalThis.x = 1' } }),
    ).rejects.toMatchObject({ code: 'PLUGIN_UNVERIFIED' });
    const pool = createPluginPool({ size: 1, capabilities });
    try {
      await expect(
        pool.invoke({ ...request, plugin: JSON.parse(JSON.stringify(verified)) as VerifiedPlugin }),
      ).rejects.toMatchObject({ code: 'PLUGIN_UNVERIFIED' });
    } finally {
      await pool.close();
    }
    expect(sideEffects.length).toBe(before);
    expect(VerifiedPlugin.is(verified)).toBe(true);
    expect(Object.isFrozen(verified.manifest.actions)).toBe(true);
  });

  it('re-checks the integrity of a plugin that crossed to a worker process', () => {
    const verified = verifyPackage(packPlugin(bundle, acme), trusted);
    const wire = JSON.parse(JSON.stringify(verified)) as Record<string, unknown>;
    expect(reissueVerified(wire).integrity).toBe(verified.integrity);
    expect(() => reissueVerified({ ...wire, code: 'globalThis.x = 1' })).toThrow(
      expect.objectContaining({ code: 'INTEGRITY_MISMATCH' }),
    );
  });
});
