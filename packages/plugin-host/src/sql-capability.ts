import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { SqlParam } from '@roster/plugin-sdk';
import pg from 'pg';
import { createEgressPolicy, type EgressPolicy } from './egress-policy.js';
import { PluginHostError } from './errors.js';
import type { HostCallInfo, SqlCapability } from './host-bridge.js';
import type { Resolver } from './http-egress.js';

export interface SqlCapabilityOptions {
  /** The tenant's external database for a call (`postgres://user:pass@host:port/db`). */
  readonly databaseUrlFor: (call: HostCallInfo) => string | Promise<string>;
  /** Default: blocks every non-public address (the operator allow-list opens local databases). */
  readonly policy?: EgressPolicy;
  /** Default: the system resolver. */
  readonly resolve?: Resolver;
  /** Server-side `statement_timeout`. Default 5 000 ms. */
  readonly statementTimeoutMs?: number;
  /** Rows a query may return; more fails with ROW_LIMIT. Default 1 000. */
  readonly maxRows?: number;
  /** Default 5 000 ms. */
  readonly connectTimeoutMs?: number;
}

const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

// Statements that can be read through a cursor, so a huge result stops at the cap on the server.
const READ = /^\s*(select|values|table|with)\b/i;

function connectionConfig(url: string): pg.ClientConfig & { host: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new PluginHostError(
      'SQL_FAILED',
      'The connection has no valid database URL (postgres://user:pass@host:5432/db).',
      {},
      { cause: error },
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new PluginHostError('SQL_FAILED', 'The database URL must start with postgres://.');
  }
  const sslmode = parsed.searchParams.get('sslmode');
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : 5432,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: decodeURIComponent(parsed.pathname.slice(1)),
    ...(sslmode && sslmode !== 'disable'
      ? { ssl: { rejectUnauthorized: sslmode === 'verify-full' } }
      : {}),
  };
}

/**
 * sql.query against the call's database: one parameterised statement (extended protocol, so
 * a second statement is a syntax error), in its own transaction with a statement timeout and
 * a row cap. A fresh connection per call: tenants' databases are not pooled together.
 */
export function createSqlCapability(options: SqlCapabilityOptions): SqlCapability {
  const policy = options.policy ?? createEgressPolicy();
  const resolve = options.resolve ?? systemResolver;
  const statementTimeoutMs = options.statementTimeoutMs ?? 5000;
  const maxRows = options.maxRows ?? 1000;

  return {
    async query(sql: string, params: readonly SqlParam[], call: HostCallInfo) {
      const config = connectionConfig(await options.databaseUrlFor(call));
      const host = config.host;
      const resolved = isIP(host) !== 0 ? [host] : await resolve(host).catch(() => []);
      if (resolved.length === 0) {
        throw new PluginHostError('SQL_FAILED', `Database host "${host}" does not resolve.`, {
          host,
        });
      }
      for (const address of resolved) {
        const verdict = policy.checkAddress(host, address);
        if (!verdict.allowed) {
          throw new PluginHostError(
            'EGRESS_DENIED',
            `Database host "${host}" is not reachable from plugins: ${verdict.reason}. An operator can allow it.`,
            { host, address },
          );
        }
      }
      const client = new pg.Client({
        ...config,
        host: resolved[0],
        connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
        statement_timeout: statementTimeoutMs,
        application_name: `roster-plugin:${call.pluginId}`,
      });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query('BEGIN');
        let rows: Record<string, unknown>[];
        let rowCount: number;
        if (READ.test(sql)) {
          // Extended protocol even without params: the simple protocol would run a second statement.
          await client.query({
            text: `DECLARE roster_rows NO SCROLL CURSOR FOR ${sql}`,
            values: [...params],
            queryMode: 'extended',
          } as pg.QueryConfig);
          const fetched = await client.query(`FETCH ${maxRows + 1} FROM roster_rows`);
          rows = fetched.rows;
          rowCount = fetched.rows.length;
        } else {
          const result = await client.query({
            text: sql,
            values: [...params],
            queryMode: 'extended',
          } as pg.QueryConfig);
          rows = result.rows;
          rowCount = result.rowCount ?? result.rows.length;
        }
        if (rows.length > maxRows) {
          await client.query('ROLLBACK');
          throw new PluginHostError(
            'ROW_LIMIT',
            `The query returned more than ${maxRows} rows: add a LIMIT or a narrower WHERE.`,
            { maxRows },
          );
        }
        await client.query('COMMIT');
        // Rows cross into the sandbox as JSON: dates become ISO strings, bigints strings.
        return { rows: JSON.parse(JSON.stringify(rows)) as Record<string, unknown>[], rowCount };
      } catch (error) {
        if (error instanceof PluginHostError) throw error;
        const pgError = error as { code?: string; message?: string };
        throw new PluginHostError(
          pgError.code === '57014' ? 'TIMEOUT' : 'SQL_FAILED',
          pgError.code === '57014'
            ? `The query ran past the ${statementTimeoutMs} ms statement timeout.`
            : `The query failed: ${pgError.message ?? String(error)}`,
          { sqlState: pgError.code },
          { cause: error },
        );
      } finally {
        await client.end().catch(() => {});
      }
    },
  };
}
