import { createTenant, createTestDatabase, createUser } from '@roster/testkit';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { DbError, schema, withTenant } from './index.js';

const db = await createTestDatabase();
afterAll(() => db.drop());

describe('withTenant', () => {
  it('shows a tenant only its own members, through drizzle, as the runtime role', async () => {
    const a = await createTenant(db.ownerPool, 'A');
    const b = await createTenant(db.ownerPool, 'B');
    await createUser(db.ownerPool, { tenantId: a.id, role: 'admin' });
    await createUser(db.ownerPool, { tenantId: b.id, role: 'admin' });
    const seenByA = await withTenant(db.appPool, a.id, (tx) =>
      tx.db.select().from(schema.memberships),
    );
    expect(seenByA.map((m) => m.tenantId)).toEqual([a.id]);
    const tenantsSeen = await withTenant(db.appPool, a.id, (tx) =>
      tx.db.select().from(schema.tenants),
    );
    expect(tenantsSeen.map((t) => t.id)).toEqual([a.id]);
  });

  it('fails closed: with no tenant set, tenant tables return nothing', async () => {
    await createTenant(db.ownerPool, 'C');
    const { rows } = await db.appPool.query('SELECT count(*)::int AS n FROM tenants');
    expect(rows[0].n).toBe(0);
    const { rows: m } = await db.appPool.query('SELECT count(*)::int AS n FROM memberships');
    expect(m[0].n).toBe(0);
  });

  it('never leaks the tenant to the next user of a pooled connection', async () => {
    const a = await createTenant(db.ownerPool, 'D');
    const client = await db.appPool.connect();
    const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    client.release();
    await withTenant(db.appPool, a.id, async (tx) => {
      expect((await tx.client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid).toBe(pid);
    });
    const after = await db.appPool.connect();
    try {
      expect((await after.query('SELECT pg_backend_pid() AS pid')).rows[0].pid).toBe(pid);
      expect((await after.query('SELECT count(*)::int AS n FROM tenants')).rows[0].n).toBe(0);
    } finally {
      after.release();
    }
  });

  it('rolls back everything when the function throws', async () => {
    const a = await createTenant(db.ownerPool, 'E');
    await expect(
      withTenant(db.appPool, a.id, async (tx) => {
        await tx.db
          .update(schema.tenants)
          .set({ name: 'Renamed' })
          .where(eq(schema.tenants.id, a.id));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const { rows } = await db.ownerPool.query('SELECT name FROM tenants WHERE id = $1', [a.id]);
    expect(rows[0].name).toBe('E');
  });

  it('refuses a tenant id that is not a UUID with a typed error', async () => {
    const error = await withTenant(db.appPool, "x' OR 1=1", async () => 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DbError);
    expect((error as DbError).code).toBe('TENANT_CONTEXT_INVALID');
  });

  it("cannot write a row into another tenant's space", async () => {
    const a = await createTenant(db.ownerPool, 'F');
    const b = await createTenant(db.ownerPool, 'G');
    const user = await createUser(db.ownerPool);
    await expect(
      withTenant(db.appPool, b.id, (tx) =>
        tx.db.insert(schema.memberships).values({ tenantId: a.id, userId: user.id, role: 'owner' }),
      ),
    ).rejects.toMatchObject({
      cause: { code: '42501', message: expect.stringMatching(/row-level security/) },
    });
  });
});

describe('roles', () => {
  it('roster_app cannot bypass RLS, is no superuser and owns nothing', async () => {
    const { rows } = await db.ownerPool.query(
      `SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb,
              (SELECT count(*)::int FROM pg_class c WHERE c.relowner = r.oid) AS owned
         FROM pg_roles r WHERE rolname = 'roster_app'`,
    );
    expect(rows[0]).toEqual({
      rolsuper: false,
      rolbypassrls: false,
      rolcreaterole: false,
      rolcreatedb: false,
      owned: 0,
    });
  });

  it('roster_app cannot create tables or change the schema', async () => {
    await expect(db.appPool.query('CREATE TABLE sneaky (id int)')).rejects.toThrow(
      /permission denied/,
    );
    await expect(
      db.appPool.query('ALTER TABLE tenants DISABLE ROW LEVEL SECURITY'),
    ).rejects.toThrow(/must be owner/);
  });
});
