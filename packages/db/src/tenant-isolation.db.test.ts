import {
  checkRlsBehaviour,
  checkRlsCatalog,
  createTestDatabase,
  listTenantTables,
  type TestDatabase,
} from '@roster/testkit';
import { afterAll, describe, expect, it } from 'vitest';

// Generated from the catalog: every table with a tenant_id column (and tenants) is checked, so
// a table added by a later migration is covered without anyone writing a test for it.
const db = await createTestDatabase();
const tables = await listTenantTables(db.ownerPool);
afterAll(() => db.drop());

describe('tenant isolation (generated from the catalog)', () => {
  it('finds the tenant tables of the baseline', () => {
    const names = tables.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['tenants', 'memberships', 'api_keys']));
  });

  describe.each(tables.map((t) => [`${t.schema}.${t.name}`, t] as const))('%s', (_label, table) => {
    it('has RLS enabled and forced, with a policy for SELECT, INSERT, UPDATE and DELETE', async () => {
      expect(await checkRlsCatalog(db.ownerPool, table)).toEqual([]);
    });

    it("keeps tenant A's rows from tenant B and from a connection with no tenant", async () => {
      expect(await checkRlsBehaviour(db.ownerPool, db.appPool, table)).toEqual([]);
    });
  });
});

describe('the isolation checks catch a table that is not isolated', () => {
  let probe: TestDatabase;
  afterAll(() => probe?.drop());

  it('reports a tenant table created without RLS, and one whose policy lets everything through', async () => {
    probe = await createTestDatabase();
    await probe.ownerPool.query(`
      CREATE TABLE notes (tenant_id uuid NOT NULL REFERENCES tenants(id), id uuid PRIMARY KEY DEFAULT gen_random_uuid(), body text NOT NULL);
      GRANT SELECT, INSERT, UPDATE, DELETE ON notes TO roster_app;
      CREATE TABLE leaky (tenant_id uuid NOT NULL REFERENCES tenants(id), body text NOT NULL);
      ALTER TABLE leaky ENABLE ROW LEVEL SECURITY;
      CREATE POLICY leaky_all ON leaky FOR ALL USING (true) WITH CHECK (true);
      GRANT SELECT, INSERT, UPDATE, DELETE ON leaky TO roster_app;
    `);
    const found = await listTenantTables(probe.ownerPool);
    const notes = found.find((t) => t.name === 'notes');
    const leaky = found.find((t) => t.name === 'leaky');
    expect(notes).toBeDefined();
    expect(leaky).toBeDefined();
    if (!notes || !leaky) return;

    const notesCatalog = (await checkRlsCatalog(probe.ownerPool, notes)).map((f) => f.problem);
    expect(notesCatalog).toEqual(
      expect.arrayContaining([
        'row-level security is not enabled',
        'row-level security is not forced (owners bypass it)',
        'no SELECT policy',
      ]),
    );
    const notesBehaviour = (await checkRlsBehaviour(probe.ownerPool, probe.appPool, notes)).map(
      (f) => f.problem,
    );
    expect(notesBehaviour).toEqual(
      expect.arrayContaining([
        "tenant B sees 1 of tenant A's rows",
        "tenant B inserted a row carrying tenant A's id",
        expect.stringMatching(/^with no tenant context \d+ rows are visible$/),
      ]),
    );

    expect((await checkRlsCatalog(probe.ownerPool, leaky)).map((f) => f.problem)).toEqual([
      'row-level security is not forced (owners bypass it)',
    ]);
    const leakyBehaviour = (await checkRlsBehaviour(probe.ownerPool, probe.appPool, leaky)).map(
      (f) => f.problem,
    );
    expect(leakyBehaviour).toEqual(
      expect.arrayContaining([
        "tenant B updated 1 of tenant A's rows",
        "tenant B deleted 1 of tenant A's rows",
      ]),
    );
  });
});
