import type { Pool } from '@roster/db';

/**
 * Jobs a worker pool inserted locked for itself (a run's next step, run in the same task) and
 * must finish by hand when no transition did: `complete` deletes the job (the step was skipped),
 * `release` unlocks it to run again a second later (the step threw, e.g. Postgres went away).
 * What cannot be done now (Postgres down) is retried by `retry()` from the pool's sweep; a pool
 * that stops unlocks all its jobs anyway.
 */
export class InlineJobs {
  private readonly pending = new Map<string, 'complete' | 'release'>();

  constructor(
    private readonly pool: Pool,
    private readonly poolId: () => string,
  ) {}

  async settle(jobId: string, outcome: 'complete' | 'release'): Promise<void> {
    try {
      await this.apply(jobId, outcome);
    } catch {
      this.pending.set(jobId, outcome);
    }
  }

  async retry(): Promise<void> {
    for (const [jobId, outcome] of [...this.pending]) {
      await this.apply(jobId, outcome);
      this.pending.delete(jobId);
    }
  }

  private async apply(jobId: string, outcome: 'complete' | 'release'): Promise<void> {
    await this.pool.query(
      outcome === 'complete'
        ? 'DELETE FROM graphile_worker._private_jobs WHERE id = $1 AND locked_by = $2'
        : `UPDATE graphile_worker._private_jobs SET locked_by = NULL, locked_at = NULL,
                  run_at = greatest(run_at, now() + interval '1 second')
            WHERE id = $1 AND locked_by = $2`,
      [jobId, this.poolId()],
    );
  }
}
