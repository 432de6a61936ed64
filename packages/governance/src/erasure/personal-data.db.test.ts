import { randomBytes, randomUUID } from 'node:crypto';
import { withTenant } from '@roster/db';
import { createLocalKeyProvider, type SqlClient } from '@roster/plugin-host';
import { createTenant, createTestDatabase, type TestDatabase } from '@roster/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPersonalDataVault, ERASED, eraseSubjectData } from '../index.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const provider = createLocalKeyProvider({ masterKey: randomBytes(32).toString('base64') });
const vault = createPersonalDataVault(provider);
const inTenant = <T>(tenantId: string, fn: (client: SqlClient) => Promise<T>) =>
  withTenant(db.appPool, tenantId, ({ client }) => fn(client));
const email = () => `jane.${randomUUID().slice(0, 8)}@example.com`;

describe('personal data vault (crypto-shredding)', () => {
  it('seals e-mail addresses inside text and opens them for the same tenant', async () => {
    const tenant = await createTenant(db.ownerPool);
    const jane = email();
    const value = { from: `Jane <${jane}>`, text: `reply to ${jane.toUpperCase()} please`, n: 3 };
    const sealed = await inTenant(tenant.id, (c) => vault.seal(c, tenant.id, value));
    expect(JSON.stringify(sealed).toLowerCase()).not.toContain(jane);
    expect(JSON.stringify(sealed)).toContain('[[pd1:');
    expect((sealed as { n: number }).n).toBe(3);
    expect(await inTenant(tenant.id, (c) => vault.open(c, tenant.id, sealed))).toEqual(value);
    // One subject for both spellings of the address.
    const { rows } = await db.ownerPool.query(
      'SELECT count(*)::int AS n FROM data_subjects WHERE tenant_id = $1',
      [tenant.id],
    );
    expect(rows[0].n).toBe(1);
  });

  it('leaves values without an address untouched, and sealing twice changes nothing more', async () => {
    const tenant = await createTenant(db.ownerPool);
    const plain = { subject: 'Invoice 42', amount: 10 };
    expect(await inTenant(tenant.id, (c) => vault.seal(c, tenant.id, plain))).toBe(plain);
    const once = await inTenant(tenant.id, (c) => vault.seal(c, tenant.id, { a: email() }));
    expect(await inTenant(tenant.id, (c) => vault.seal(c, tenant.id, once))).toEqual(once);
  });

  it('after erasure the subject reads as [erased]; other subjects still open; a repeat is idempotent', async () => {
    const tenant = await createTenant(db.ownerPool);
    const jane = email();
    const john = email();
    const sealed = await inTenant(tenant.id, (c) => vault.seal(c, tenant.id, { to: [jane, john] }));
    const first = await inTenant(tenant.id, (c) =>
      eraseSubjectData(c, provider, tenant.id, { email: jane, requestedBy: 'member:x' }),
    );
    expect(first).toMatchObject({ keysDestroyed: 1, alreadyErased: false });
    expect(await inTenant(tenant.id, (c) => vault.open(c, tenant.id, sealed))).toEqual({
      to: [ERASED, john],
    });
    const again = await inTenant(tenant.id, (c) =>
      eraseSubjectData(c, provider, tenant.id, {
        email: ` ${jane.toUpperCase()} `,
        requestedBy: 'member:x',
      }),
    );
    expect(again).toMatchObject({
      subjectId: first.subjectId,
      keysDestroyed: 0,
      alreadyErased: true,
    });
    // The address comes back later: a new subject with a new key; the old values stay erased.
    const later = await inTenant(tenant.id, (c) => vault.seal(c, tenant.id, { from: jane }));
    expect(await inTenant(tenant.id, (c) => vault.open(c, tenant.id, later))).toEqual({
      from: jane,
    });
    expect(await inTenant(tenant.id, (c) => vault.open(c, tenant.id, sealed))).toEqual({
      to: [ERASED, john],
    });
  });

  it('a token copied into another tenant does not open there', async () => {
    const a = await createTenant(db.ownerPool);
    const b = await createTenant(db.ownerPool);
    const sealed = await inTenant(a.id, (c) => vault.seal(c, a.id, { from: email() }));
    expect(await inTenant(b.id, (c) => vault.open(c, b.id, sealed))).toEqual({ from: ERASED });
  });

  it('refuses an erasure request that is not one address', async () => {
    const tenant = await createTenant(db.ownerPool);
    await expect(
      inTenant(tenant.id, (c) =>
        eraseSubjectData(c, provider, tenant.id, { email: 'not an address', requestedBy: 'x' }),
      ),
    ).rejects.toMatchObject({ code: 'ERASURE_INPUT_INVALID' });
  });
});
