import { type Pool, type PoolClient, withTenant } from '@roster/db';
import { type InFlightCalls, parseRunStop, RUN_STOPPED_CHANNEL } from '@roster/engine';

export interface RunStopListener {
  close(): Promise<void>;
}

/**
 * LISTENs for runs that stop while running (migration 0040) on one connection of `pool` and
 * aborts their calls in flight in this worker. When the connection drops (Postgres restarted) it
 * reconnects every `retryMs`, then checks the runs of the calls still in flight, since their
 * notifications may have come while it was away.
 */
export async function listenForRunStops(
  pool: Pool,
  calls: InFlightCalls,
  retryMs = 1000,
): Promise<RunStopListener> {
  let client: PoolClient | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const onNotification = (message: { channel: string; payload?: string }) => {
    if (message.channel !== RUN_STOPPED_CHANNEL) return;
    const stop = parseRunStop(message.payload);
    if (stop) calls.stop(stop);
  };

  const lost = (gone: PoolClient) => {
    if (client !== gone) return;
    client = undefined;
    gone.removeListener('notification', onNotification);
    gone.release(true);
    schedule();
  };

  const schedule = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect(true).catch(() => schedule());
    }, retryMs);
    retry.unref();
  };

  const connect = async (again: boolean) => {
    const next = await pool.connect();
    if (closed) {
      next.release();
      return;
    }
    next.on('notification', onNotification);
    next.once('error', () => lost(next));
    next.once('end', () => lost(next));
    client = next;
    try {
      await next.query(`LISTEN ${RUN_STOPPED_CHANNEL}`);
    } catch (err) {
      lost(next);
      throw err;
    }
    // Listening again is what matters: a failed catch-up must not make it reconnect (and leak
    // this connection); those calls then end by their own timeout.
    if (again) await stopMissedRuns(pool, calls).catch(() => {});
  };

  await connect(false).catch(() => schedule());
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      const last = client;
      client = undefined;
      if (!last) return;
      last.removeListener('notification', onNotification);
      // Destroyed, not pooled again: the connection still LISTENs and holds this closure.
      last.release(true);
    },
  };
}

/** Aborts the calls of runs that stopped while no notification could arrive. */
async function stopMissedRuns(pool: Pool, calls: InFlightCalls): Promise<void> {
  const byTenant = new Map<string, string[]>();
  for (const { tenantId, runId } of calls.runs()) {
    byTenant.set(tenantId, [...(byTenant.get(tenantId) ?? []), runId]);
  }
  for (const [tenantId, runIds] of byTenant) {
    const { rows } = await withTenant(pool, tenantId, ({ client }) =>
      client.query<{ id: string; status: string }>(
        `SELECT id, status FROM runs WHERE tenant_id = $1 AND id = ANY($2::uuid[])
            AND status IN ('cancelled', 'failed', 'dead_lettered')`,
        [tenantId, runIds],
      ),
    );
    for (const row of rows) calls.stop({ tenantId, runId: row.id, status: row.status });
  }
}
