import { randomBytes, randomUUID } from 'node:crypto';
import { withTenant } from '@roster/db';
import { createTenant, createTestDatabase, type TestDatabase } from '@roster/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalKeyProvider,
  type InTenant,
  type KeyProvider,
  openConnectionSecrets,
  rewrapDataKeys,
  rotateTenantDataKey,
  sealConnectionSecrets,
} from '../index.js';

// A fresh database per test: rotation walks every tenant's keys, so tests must not share them.
let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(() => db.drop());

const newMasterKey = () => randomBytes(32).toString('base64');
const inTenant: InTenant = (tenantId, fn) =>
  withTenant(db.appPool, tenantId, ({ client }) => fn(client));

/** A tenant with one installation of a catalog plugin (connections reference installations). */
async function tenantWithInstallation() {
  const tenant = await createTenant(db.ownerPool);
  const name = `p${randomBytes(4).toString('hex')}`;
  const { rows: pub } = await db.ownerPool.query(
    'INSERT INTO publishers (name, owner_tenant_id) VALUES ($1, $2) RETURNING id',
    [name, tenant.id],
  );
  const { rows: plugin } = await db.ownerPool.query(
    `INSERT INTO plugins (publisher_id, plugin_key, name) VALUES ($1, $2, 'P') RETURNING id`,
    [pub[0].id, name],
  );
  const { rows: version } = await db.ownerPool.query(
    `INSERT INTO plugin_versions (plugin_id, version, manifest, package, integrity, key_id)
     VALUES ($1, '1.0.0', '{}', '{}', 'sha512-x', 'k') RETURNING id`,
    [plugin[0].id],
  );
  const { rows: inst } = await db.ownerPool.query(
    `INSERT INTO installations (tenant_id, plugin_id, plugin_version_id) VALUES ($1, $2, $3) RETURNING id`,
    [tenant.id, plugin[0].id, version[0].id],
  );
  return { tenantId: tenant.id, installationId: inst[0].id as string };
}

async function createConnection(
  provider: KeyProvider,
  t: { tenantId: string; installationId: string },
  secrets: Record<string, string>,
) {
  const connectionId = randomUUID();
  await inTenant(t.tenantId, async (client) => {
    const sealed = await sealConnectionSecrets(
      client,
      provider,
      { tenantId: t.tenantId, connectionId },
      secrets,
    );
    await client.query(
      `INSERT INTO connections (tenant_id, id, installation_id, name, ciphertext, iv, tag, key_version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        t.tenantId,
        connectionId,
        t.installationId,
        connectionId,
        sealed.ciphertext,
        sealed.iv,
        sealed.tag,
        sealed.keyVersion,
      ],
    );
  });
  return connectionId;
}

async function readConnection(provider: KeyProvider, tenantId: string, connectionId: string) {
  return inTenant(tenantId, async (client) => {
    const { rows } = await client.query<{
      ciphertext: Buffer;
      iv: Buffer;
      tag: Buffer;
      key_version: number;
    }>(
      'SELECT ciphertext, iv, tag, key_version FROM connections WHERE tenant_id = $1 AND id = $2',
      [tenantId, connectionId],
    );
    const row = rows[0]!;
    return openConnectionSecrets(
      client,
      provider,
      { tenantId, connectionId },
      { ciphertext: row.ciphertext, iv: row.iv, tag: row.tag, keyVersion: row.key_version },
    );
  });
}

describe('connection secrets (envelope encryption)', () => {
  it('stores only ciphertext and decrypts it for the same tenant and connection', async () => {
    const provider = createLocalKeyProvider({ masterKey: newMasterKey() });
    const t = await tenantWithInstallation();
    const canary = `canary-${randomUUID()}`;
    const id = await createConnection(provider, t, { apiKey: canary });
    const { rows } = await db.ownerPool.query(
      `SELECT c.ciphertext, k.wrapped_key FROM connections c
         JOIN tenant_data_keys k ON k.tenant_id = c.tenant_id AND k.key_version = c.key_version
        WHERE c.id = $1`,
      [id],
    );
    expect(rows[0].ciphertext.toString('latin1')).not.toContain(canary);
    expect(await readConnection(provider, t.tenantId, id)).toEqual({ apiKey: canary });
  });

  it('refuses ciphertext moved to another tenant (the AAD binds tenant and connection)', async () => {
    const provider = createLocalKeyProvider({ masterKey: newMasterKey() });
    const a = await tenantWithInstallation();
    const b = await tenantWithInstallation();
    const id = await createConnection(provider, a, { apiKey: 'secret-of-a' });
    await createConnection(provider, b, { apiKey: 'b owns a data key too' });
    // An attacker with table access copies A's row, same connection id and key version, to B.
    await db.ownerPool.query(
      `INSERT INTO connections (tenant_id, id, installation_id, name, ciphertext, iv, tag, key_version)
       SELECT $2, id, $3, 'stolen', ciphertext, iv, tag, key_version FROM connections WHERE id = $1 AND tenant_id = $4`,
      [id, b.tenantId, b.installationId, a.tenantId],
    );
    await expect(readConnection(provider, b.tenantId, id)).rejects.toMatchObject({
      code: 'DECRYPT_FAILED',
    });
    // Also under A's own data key but another connection id: refused too.
    const other = await createConnection(provider, a, { apiKey: 'x' });
    await db.ownerPool.query(
      `UPDATE connections SET (ciphertext, iv, tag) = (SELECT ciphertext, iv, tag FROM connections WHERE id = $1 AND tenant_id = $3)
        WHERE id = $2 AND tenant_id = $3`,
      [id, other, a.tenantId],
    );
    await expect(readConnection(provider, a.tenantId, other)).rejects.toMatchObject({
      code: 'DECRYPT_FAILED',
    });
  });

  it('master key rotation re-wraps every data key with zero failed decrypts', async () => {
    const oldKey = newMasterKey();
    const before = createLocalKeyProvider({ masterKey: oldKey });
    const made: { tenantId: string; id: string; secret: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const t = await tenantWithInstallation();
      for (let j = 0; j < 2; j++) {
        const secret = `s-${i}-${j}-${randomUUID()}`;
        made.push({
          tenantId: t.tenantId,
          id: await createConnection(before, t, { secret }),
          secret,
        });
      }
    }
    const newKey = newMasterKey();
    const during = createLocalKeyProvider({ masterKey: newKey, previousMasterKeys: [oldKey] });
    const report = await withTenant(db.appPool, made[0]!.tenantId, ({ client }) =>
      rewrapDataKeys(client, inTenant, during),
    );
    expect(report.failed).toBe(0);
    expect(report.rewrapped).toBeGreaterThanOrEqual(3);

    const { rows: left } = await db.ownerPool.query(
      'SELECT count(*)::int AS n FROM tenant_data_keys WHERE master_key_id <> $1',
      [during.currentKeyId],
    );
    expect(left[0].n).toBe(0);
    // The old master key is gone: every connection still decrypts with the new one alone.
    const after = createLocalKeyProvider({ masterKey: newKey });
    let failed = 0;
    for (const c of made) {
      const secrets = await readConnection(after, c.tenantId, c.id).catch(() => null);
      if (secrets?.secret !== c.secret) failed++;
    }
    expect(failed).toBe(0);
    // And the old key alone no longer unwraps them.
    await expect(readConnection(before, made[0]!.tenantId, made[0]!.id)).rejects.toMatchObject({
      code: 'MASTER_KEY_INVALID',
    });
  });

  it('rotating a tenant data key re-encrypts its connections under the new version', async () => {
    const provider = createLocalKeyProvider({ masterKey: newMasterKey() });
    const t = await tenantWithInstallation();
    const id = await createConnection(provider, t, { token: 't-1' });
    const rotated = await inTenant(t.tenantId, (client) =>
      rotateTenantDataKey(client, provider, t.tenantId),
    );
    expect(rotated).toEqual({ keyVersion: 2, reencrypted: 1 });
    const { rows } = await db.ownerPool.query('SELECT key_version FROM connections WHERE id = $1', [
      id,
    ]);
    expect(rows[0].key_version).toBe(2);
    expect(await readConnection(provider, t.tenantId, id)).toEqual({ token: 't-1' });
  });

  it('refuses a master key that is not 32 bytes of base64', () => {
    expect(() => createLocalKeyProvider({ masterKey: 'short' })).toThrow(/32 bytes/);
  });
});
