import { fileURLToPath } from 'node:url';
import {
  checkConformance,
  createEgressPolicy,
  createSandbox,
  createSqlCapability,
  generatePublisherKey,
  type HostCallInfo,
  packPlugin,
  publicKeyOf,
  verifyPackage,
} from '@roster/plugin-host';
import { runAction } from '@roster/plugin-sdk';
import { createTestDatabase, type TestDatabase } from '@roster/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import connector from './index.js';

const entry = fileURLToPath(new URL('./index.ts', import.meta.url));
const report = await checkConformance(entry);
let db: TestDatabase;

// The "tenant's external database": a separate database with a plain table.
beforeAll(async () => {
  db = await createTestDatabase();
  await db.ownerPool.query(
    'create table ext_invoices (id int primary key, customer text not null, amount numeric(10,2) not null)',
  );
  await db.ownerPool.query(
    "insert into ext_invoices select g, 'cust-' || (g % 3), g * 10 from generate_series(1, 25) g",
  );
}, 120_000);
afterAll(() => db?.drop());

const sql = (options: { maxRows?: number; statementTimeoutMs?: number } = {}) =>
  createSqlCapability({
    databaseUrlFor: () => db.ownerUrl,
    policy: createEgressPolicy({ allow: ['127.0.0.1', '::1', 'localhost'] }),
    ...options,
  });
const call: HostCallInfo = {
  pluginId: 'postgres',
  pluginVersion: '1.0.0',
  actionId: 'query',
  idempotencyKey: 'run/step/1',
};
const harness = (capability = sql()) => ({
  connection: { databaseUrl: 'postgres://tenant-db.example/ext' },
  sql: {
    query: (text: string, params?: readonly (string | number | boolean | null)[]) =>
      capability.query(text, params ?? [], call),
  },
});

describe('conformance', () => {
  for (const result of report.results) {
    it(result.check, () => expect(result.problems).toEqual([]));
  }
});

describe('through the SDK harness, against a real second database', () => {
  it('runs a parameterised query', async () => {
    const { output } = await runAction(
      connector,
      'query',
      {
        sql: 'select id, amount from ext_invoices where customer = $1 and amount > $2 order by id',
        params: ['cust-1', 100],
      },
      harness() as never,
    );
    expect(output).toEqual({
      rows: [
        { id: 13, amount: '130.00' },
        { id: 16, amount: '160.00' },
        { id: 19, amount: '190.00' },
        { id: 22, amount: '220.00' },
        { id: 25, amount: '250.00' },
      ],
      rowCount: 5,
    });
  });

  it('treats a parameter as data, never as SQL', async () => {
    const { output } = await runAction(
      connector,
      'query',
      {
        sql: 'select count(*)::int as n from ext_invoices where customer = $1',
        params: ["x' or '1'='1"],
      },
      harness() as never,
    );
    expect(output).toEqual({ rows: [{ n: 0 }], rowCount: 1 });
  });

  it('refuses a second statement, caps rows and times out long statements', async () => {
    await expect(
      runAction(
        connector,
        'query',
        { sql: 'select 1; drop table ext_invoices' },
        harness() as never,
      ),
    ).rejects.toMatchObject({ code: 'SQL_FAILED' });
    await expect(
      runAction(
        connector,
        'query',
        { sql: 'select * from ext_invoices' },
        harness(sql({ maxRows: 10 })) as never,
      ),
    ).rejects.toMatchObject({ code: 'ROW_LIMIT' });
    await expect(
      runAction(
        connector,
        'query',
        { sql: 'select pg_sleep(2)' },
        harness(sql({ statementTimeoutMs: 200 })) as never,
      ),
    ).rejects.toMatchObject({ code: 'TIMEOUT' });
    const { rows } = await db.ownerPool.query('select count(*)::int as n from ext_invoices');
    expect(rows[0].n).toBe(25);
  });

  it('writes with RETURNING', async () => {
    const { output } = await runAction(
      connector,
      'query',
      {
        sql: 'update ext_invoices set amount = amount + $1 where id = $2 returning id, amount',
        params: [1, 3],
      },
      harness() as never,
    );
    expect(output).toEqual({ rows: [{ id: 3, amount: '31.00' }], rowCount: 1 });
  });
});

describe('through the sandbox (packed, signed, verified)', () => {
  it('queries the database and tests the connection', async () => {
    const publisher = generatePublisherKey('roster');
    const plugin = verifyPackage(
      JSON.parse(JSON.stringify(packPlugin(report.bundle!, publisher))),
      [publicKeyOf(publisher)],
    );
    const sandbox = createSandbox();
    const invoke = (actionId: string, input: unknown) =>
      sandbox.invokeAction({
        plugin,
        actionId,
        input,
        secrets: { databaseUrl: 'postgres://tenant-db.example/ext' },
        grantedScopes: ['sql'],
        idempotencyKey: 'run/step/1',
        capabilities: { sql: sql() },
      });
    const result = await invoke('query', {
      sql: 'select customer, count(*)::int as n from ext_invoices group by customer order by customer',
    });
    expect(result.output).toEqual({
      rows: [
        { customer: 'cust-0', n: 8 },
        { customer: 'cust-1', n: 9 },
        { customer: 'cust-2', n: 8 },
      ],
      rowCount: 3,
    });
    const tested = await invoke('testConnection', {});
    expect(tested.output).toMatchObject({ ok: true, serverVersion: expect.stringMatching(/^\d+/) });
    await expect(invoke('query', { sql: 'select 1; select 2' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });
});
