import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  /** Connections at most. Default 10. */
  max?: number;
  applicationName?: string;
  /**
   * How long a connection may sit idle before the pool closes it. Default 10 minutes. A new
   * connection's backend compiles and plans the engine's PL/pgSQL again on first use (35–50 ms of
   * Postgres CPU for a transition). With pg's own default of 10 s, a tenant that starts a run
   * every half minute paid that on every start: 50–60 ms from startRun to its first step instead
   * of 5–12 (decision 0005, tenth session).
   */
  idleTimeoutMs?: number;
}

/** See PoolOptions.idleTimeoutMs. */
const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000;

export function createPool(
  url: string,
  {
    max = 10,
    applicationName = 'roster',
    idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS,
  }: PoolOptions = {},
): Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    application_name: applicationName,
    idleTimeoutMillis: idleTimeoutMs,
    // Idle connections do not keep the process alive: a command that is done exits, even if its
    // pool was not ended, rather than waiting out the idle timeout.
    allowExitOnIdle: true,
  });
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
