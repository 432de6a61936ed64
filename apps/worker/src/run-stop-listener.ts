import { type Pool, type PoolClient, withTenant } from '@roster/db';
import { type InFlightCalls, parseRunStop, RUN_STOPPED_CHANNEL } from '@roster/engine';

export interface RunStopListener {
  close(): Promise<void>;
}

/**
 * LISTENs for runs that stop while running (migration 0040) and for branches that are cut
 * (flow-commit's stopFanOut) on one connection of `pool`, and aborts their calls in flight in
 * this worker. When the connection drops (Postgres restarted) it reconnects every `retryMs`,
 * then checks the runs and branches of the calls still in flight, since their notifications may
 * have come while it was away.
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

/**
 * Aborts the calls of runs that stopped, and of branches and iterations that ended (cut by their
 * parallel or map step), while no notification could arrive. One query per tenant.
 */
async function stopMissedRuns(pool: Pool, calls: InFlightCalls): Promise<void> {
  const byTenant = new Map<string, { runIds: string[]; markers: Set<string> }>();
  for (const { tenantId, runId, markers } of calls.runs()) {
    const entry = byTenant.get(tenantId) ?? { runIds: [], markers: new Set<string>() };
    entry.runIds.push(runId);
    for (const marker of markers) entry.markers.add(marker);
    byTenant.set(tenantId, entry);
  }
  for (const [tenantId, { runIds, markers }] of byTenant) {
    const { rows } = await withTenant(pool, tenantId, ({ client }) =>
      client.query<{ run_id: string; status: string; marker: string | null }>(
        `SELECT id AS run_id, status, NULL AS marker FROM runs
          WHERE tenant_id = $1 AND id = ANY($2::uuid[])
            AND status IN ('cancelled', 'failed', 'dead_lettered')
         UNION ALL
         SELECT run_id, status, step_id FROM step_runs
          WHERE tenant_id = $1 AND run_id = ANY($2::uuid[]) AND step_id = ANY($3::text[])
            AND status NOT IN ('running', 'pending')`,
        [tenantId, runIds, [...markers]],
      ),
    );
    for (const row of rows) {
      if (row.marker === null) calls.stop({ tenantId, runId: row.run_id, status: row.status });
      else calls.stopBranch(tenantId, row.run_id, row.marker);
    }
  }
}
