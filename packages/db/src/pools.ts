import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  /** Connections at most. Default 10. */
  max?: number;
  applicationName?: string;
}

export function createPool(
  url: string,
  { max = 10, applicationName = 'roster' }: PoolOptions = {},
): Pool {
  const pool = new pg.Pool({ connectionString: url, max, application_name: applicationName });
  // An idle client losing its server (Postgres restarted) must not crash the process; the pool
  // discards it and the next checkout reconnects.
  pool.on('error', () => {});
  // pg-pool listens for that only while a client is idle. A checked-out client whose server goes
  // away emits 'error' as well; its query fails and the caller sees it, so the event itself must
  // not crash the process.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  return pool;
}

/** True when Postgres answers a trivial query within the timeout (readiness probes). */
export async function isDatabaseReady(pool: Pool, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
    });
    await Promise.race([pool.query('SELECT 1'), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
