import { hostname } from 'node:os';
import type { Pool } from '@roster/db';

/** Records that this worker pool is alive (one row per pool; upserted every beat). */
export async function beat(pool: Pool, poolId: string): Promise<void> {
  await pool.query(
    `INSERT INTO worker_heartbeats (pool_id, host, pid) VALUES ($1, $2, $3)
     ON CONFLICT (pool_id) DO UPDATE SET beat_at = now()`,
    [poolId, hostname(), process.pid],
  );
}

export async function forget(pool: Pool, poolIds: string[]): Promise<void> {
  await pool.query('DELETE FROM worker_heartbeats WHERE pool_id = ANY($1::text[])', [poolIds]);
}

/**
 * Unlocks the jobs of pools whose heartbeat stopped more than `staleMs` ago (a machine or
 * process that died without its supervisor noticing), so they run again within a minute
 * instead of graphile-worker's four hours. Returns the pool ids it unlocked.
 */
export async function sweepDeadPools(pool: Pool, staleMs: number): Promise<string[]> {
  const { rows } = await pool.query<{ pool_id: string }>(
    `DELETE FROM worker_heartbeats WHERE beat_at < now() - $1 * interval '1 millisecond' RETURNING pool_id`,
    [staleMs],
  );
  const ids = rows.map((r) => r.pool_id);
  if (ids.length > 0) await unlockPools(pool, ids);
  return ids;
}

export async function unlockPools(pool: Pool, poolIds: string[]): Promise<void> {
  await pool.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [poolIds]);
}
