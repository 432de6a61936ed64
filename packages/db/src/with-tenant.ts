import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { auditSettingsSql } from './audit-context.js';
import { DbError } from './errors.js';
import type { Pool, PoolClient } from './pools.js';
import * as schema from './schema/index.js';

export type Database = NodePgDatabase<typeof schema>;

/** What a function running in a tenant's transaction gets. */
export interface TenantTransaction {
  tenantId: string;
  /** drizzle over the transaction's connection. */
  db: Database;
  /** The raw connection, for SQL that drizzle does not express (graphile_worker.add_job, ...). */
  client: PoolClient;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Runs `fn` in ONE transaction whose RLS context is `tenantId`
 * (`set_config('app.tenant_id', …, true)`: transaction-local, so a pooled connection never
 * carries it to the next user). Commits when `fn` resolves, rolls back when it throws.
 */
export async function withTenant<T>(
  pool: Pool,
  tenantId: string,
  fn: (tx: TenantTransaction) => Promise<T>,
): Promise<T> {
  if (!UUID.test(tenantId)) {
    throw new DbError(
      'TENANT_CONTEXT_INVALID',
      `Tenant id must be a UUID, got ${JSON.stringify(tenantId)}.`,
      { tenantId },
    );
  }
  const client = await pool.connect();
  let broken = false;
  try {
    // One round trip: the id is a validated UUID (above), so it is safe to inline, and a simple
    // query may carry several statements. SET LOCAL is transaction-scoped like set_config(…, true).
    // The audit context (if any) rides along in the same round trip.
    await client.query(
      `BEGIN; SET LOCAL app.tenant_id = '${tenantId.toLowerCase()}'${auditSettingsSql()}`,
    );
    let db: Database | undefined;
    // drizzle builds its relational config per instance: only pay for it when `db` is used.
    const result = await fn({
      tenantId,
      client,
      get db() {
        db ??= drizzle({ client, schema });
        return db;
      },
    });
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true;
    }
    throw err;
  } finally {
    client.release(broken);
  }
}
