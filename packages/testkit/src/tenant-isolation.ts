import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from '@roster/db';

/** A table that holds tenant data, as the catalog shows it. */
export interface TenantTable {
  schema: string;
  name: string;
  /** `tenant_id`, or `id` for the tenants table itself. */
  tenantColumn: string;
}

export interface IsolationFinding {
  table: string;
  problem: string;
}

const SKIPPED_SCHEMAS = [
  'pg_catalog',
  'information_schema',
  'pg_toast',
  'graphile_worker',
  'drizzle',
];

/** Every table with a tenant_id column (and `tenants` itself): the suite covers each one. */
export async function listTenantTables(ownerPool: Pool): Promise<TenantTable[]> {
  const { rows } = await ownerPool.query<{ schema: string; name: string; tenant_column: string }>(
    `SELECT n.nspname AS schema, c.relname AS name,
            CASE WHEN c.relname = 'tenants' AND n.nspname = 'public' THEN 'id' ELSE 'tenant_id' END AS tenant_column
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND n.nspname <> ALL($1)
        AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
             OR (c.relname = 'tenants' AND n.nspname = 'public'))
      ORDER BY 1, 2`,
    [SKIPPED_SCHEMAS],
  );
  return rows.map((r) => ({ schema: r.schema, name: r.name, tenantColumn: r.tenant_column }));
}

/** Catalog checks: RLS enabled and forced, and a policy for each of the four commands. */
export async function checkRlsCatalog(
  ownerPool: Pool,
  table: TenantTable,
): Promise<IsolationFinding[]> {
  const qualified = `${table.schema}.${table.name}`;
  const findings: IsolationFinding[] = [];
  const { rows } = await ownerPool.query<{ enabled: boolean; forced: boolean }>(
    `SELECT c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
    [table.schema, table.name],
  );
  if (!rows[0]?.enabled)
    findings.push({ table: qualified, problem: 'row-level security is not enabled' });
  if (!rows[0]?.forced)
    findings.push({
      table: qualified,
      problem: 'row-level security is not forced (owners bypass it)',
    });
  const policies = await ownerPool.query<{ cmd: string }>(
    'SELECT cmd FROM pg_policies WHERE schemaname = $1 AND tablename = $2',
    [table.schema, table.name],
  );
  const cmds = new Set(policies.rows.map((p) => p.cmd));
  for (const cmd of ['SELECT', 'INSERT', 'UPDATE', 'DELETE']) {
    if (!cmds.has(cmd) && !cmds.has('ALL'))
      findings.push({ table: qualified, problem: `no ${cmd} policy` });
  }
  return findings;
}

/**
 * Behaviour checks as roster_app: with tenant A's row and B's row present, B's context must not
 * see, update or delete A's row, nor insert a row for A; with no context nothing is visible.
 */
export async function checkRlsBehaviour(
  ownerPool: Pool,
  appPool: Pool,
  table: TenantTable,
): Promise<IsolationFinding[]> {
  const qualified = `${quote(table.schema)}.${quote(table.name)}`;
  const label = `${table.schema}.${table.name}`;
  const findings: IsolationFinding[] = [];
  const synth = new RowSynthesizer(ownerPool);
  const tenantA = await synth.tenant();
  const tenantB = await synth.tenant();
  if (table.name !== 'tenants') {
    await synth.insert(table.schema, table.name, tenantA);
    await synth.insert(table.schema, table.name, tenantB);
  }
  const tc = quote(table.tenantColumn);

  await asApp(appPool, tenantB, async (client) => {
    const visible = await client.query(
      `SELECT count(*)::int AS n FROM ${qualified} WHERE ${tc} = $1`,
      [tenantA],
    );
    if (visible.rows[0].n !== 0)
      findings.push({
        table: label,
        problem: `tenant B sees ${visible.rows[0].n} of tenant A's rows`,
      });
    const own = await client.query(`SELECT count(*)::int AS n FROM ${qualified}`);
    if (own.rows[0].n < 1)
      findings.push({
        table: label,
        problem: 'tenant B cannot see its own row (policy too strict)',
      });
    const updated = await refusedOrCount(
      client,
      `UPDATE ${qualified} SET ${tc} = ${tc} WHERE ${tc} = $1`,
      [tenantA],
    );
    if (updated > 0)
      findings.push({ table: label, problem: `tenant B updated ${updated} of tenant A's rows` });
    const deleted = await refusedOrCount(client, `DELETE FROM ${qualified} WHERE ${tc} = $1`, [
      tenantA,
    ]);
    if (deleted > 0)
      findings.push({ table: label, problem: `tenant B deleted ${deleted} of tenant A's rows` });
  });

  const row = await synth.values(table.schema, table.name, tenantA);
  const inserted = await asApp(appPool, tenantB, async (client) => {
    const cols = Object.keys(row);
    const sql = `INSERT INTO ${qualified} (${cols.map(quote).join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`;
    return (await refusedOrCount(client, sql, Object.values(row))) > 0;
  });
  if (inserted)
    findings.push({ table: label, problem: "tenant B inserted a row carrying tenant A's id" });

  const noContext = await appPool.query(`SELECT count(*)::int AS n FROM ${qualified}`).then(
    (r) => r.rows[0].n as number,
    () => 0,
  );
  if (noContext !== 0)
    findings.push({
      table: label,
      problem: `with no tenant context ${noContext} rows are visible`,
    });
  return findings;
}

/** Affected rows, or 0 when Postgres refuses the statement (RLS violation or missing grant). */
async function refusedOrCount(client: PoolClient, sql: string, params: unknown[]): Promise<number> {
  await client.query('SAVEPOINT probe');
  try {
    const result = await client.query(sql, params);
    await client.query('RELEASE SAVEPOINT probe');
    return result.rowCount ?? 0;
  } catch (err) {
    await client.query('ROLLBACK TO SAVEPOINT probe');
    if ((err as { code?: string }).code === '42501') return 0;
    throw err;
  }
}

async function asApp<T>(
  appPool: Pool,
  tenantId: string,
  fn: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await appPool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
    return await fn(client);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

interface ColumnInfo {
  name: string;
  type: string;
  typtype: string;
  notNull: boolean;
  hasDefault: boolean;
  enumFirst: string | null;
}

interface ForeignKey {
  columns: string[];
  refSchema: string;
  refTable: string;
  refColumns: string[];
}

/**
 * Builds a valid row for any table from the catalog: NOT NULL columns get a value of their type,
 * foreign keys get a parent row of the same tenant (created first). So a new tenant table is
 * covered by the suite the day it is migrated, with no fixture to write.
 */
class RowSynthesizer {
  constructor(private readonly ownerPool: Pool) {}

  async tenant(): Promise<string> {
    const id = randomUUID();
    await this.ownerPool.query('INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $3)', [
      id,
      `t-${id}`,
      'Isolation probe',
    ]);
    return id;
  }

  async insert(schema: string, table: string, tenantId: string): Promise<Record<string, unknown>> {
    if (schema === 'public' && table === 'tenants') return { id: tenantId };
    const row = await this.values(schema, table, tenantId);
    const cols = Object.keys(row);
    const { rows } = await this.ownerPool.query(
      `INSERT INTO ${quote(schema)}.${quote(table)} (${cols.map(quote).join(', ')})
       VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
      Object.values(row),
    );
    return rows[0] as Record<string, unknown>;
  }

  async values(schema: string, table: string, tenantId: string): Promise<Record<string, unknown>> {
    const columns = await this.columns(schema, table);
    const row: Record<string, unknown> = {};
    for (const fk of await this.foreignKeys(schema, table)) {
      const required = fk.columns.some((c) => columns.find((col) => col.name === c)?.notNull);
      if (!required || fk.columns.every((c) => c === 'tenant_id')) continue;
      const parent = await this.insert(fk.refSchema, fk.refTable, tenantId);
      fk.columns.forEach((c, i) => {
        row[c] = parent[fk.refColumns[i] as string];
      });
    }
    for (const col of columns) {
      if (col.name === 'tenant_id') row[col.name] = tenantId;
      else if (table === 'tenants' && col.name === 'id') row[col.name] = tenantId;
      else if (!(col.name in row) && col.notNull && !col.hasDefault) row[col.name] = valueFor(col);
    }
    return row;
  }

  private async columns(schema: string, table: string): Promise<ColumnInfo[]> {
    const { rows } = await this.ownerPool.query<ColumnInfo>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, t.typtype,
              a.attnotnull AS "notNull", (a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '') AS "hasDefault",
              (SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder LIMIT 1) AS "enumFirst"
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
        WHERE a.attrelid = format('%I.%I', $1::text, $2::text)::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [schema, table],
    );
    return rows;
  }

  private async foreignKeys(schema: string, table: string): Promise<ForeignKey[]> {
    const { rows } = await this.ownerPool.query<{
      columns: string[];
      ref_schema: string;
      ref_table: string;
      ref_columns: string[];
    }>(
      `SELECT array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o)::text[] AS columns,
              rn.nspname AS ref_schema, rc.relname AS ref_table,
              array(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, o)
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o)::text[] AS ref_columns
         FROM pg_constraint con
         JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
        WHERE con.contype = 'f' AND con.conrelid = format('%I.%I', $1::text, $2::text)::regclass`,
      [schema, table],
    );
    return rows.map((r) => ({
      columns: r.columns,
      refSchema: r.ref_schema,
      refTable: r.ref_table,
      refColumns: r.ref_columns,
    }));
  }
}

function valueFor(col: ColumnInfo): unknown {
  if (col.enumFirst !== null) return col.enumFirst;
  const type = col.type;
  if (type.endsWith('[]')) return [];
  if (type === 'uuid') return randomUUID();
  if (/^(text|character varying|varchar|citext)/.test(type)) return `probe-${randomUUID()}`;
  if (/^(integer|bigint|smallint|numeric|double precision|real)/.test(type)) return 1;
  if (type === 'boolean') return false;
  if (type.startsWith('timestamp') || type === 'date') return new Date();
  if (type === 'jsonb' || type === 'json') return {};
  if (type === 'bytea') return Buffer.from('probe');
  if (type === 'interval') return '1 minute';
  throw new Error(
    `The isolation suite cannot synthesise a value of type ${type} for column ${col.name}: teach valueFor() this type.`,
  );
}
