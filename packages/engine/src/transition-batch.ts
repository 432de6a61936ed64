import type { Pool } from '@roster/db';
import { type TransitionSpec, transitionRaw } from './transition.js';

const BATCH_SQL = 'SELECT roster_engine_transitions($1::jsonb) AS results';

interface Pending {
  spec: TransitionSpec;
  /** roster_engine_transition's raw result (see parseTransitionResult). */
  resolve: (result: string) => void;
  reject: (error: unknown) => void;
}

/**
 * Applies the transitions of one worker's concurrent jobs in as few commits as possible: the
 * first goes at once; those that arrive while a batch is in flight go together in the next one
 * (roster_engine_transitions, one statement). Each commit is a WAL flush, and under load the
 * flushes, not the work, bound a worker's steps per second. A failed batch is retried one
 * transition at a time, so one bad transition cannot fail its neighbours.
 */
export class TransitionBatcher {
  private queue: Pending[] = [];
  private inFlight = false;

  constructor(
    private readonly pool: Pool,
    private readonly maxBatch = 100,
  ) {}

  apply(spec: TransitionSpec): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.push({ spec, resolve, reject });
      if (!this.inFlight) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.inFlight = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      if (batch.length === 1) {
        await settle(batch[0] as Pending, transitionRaw(this.pool, (batch[0] as Pending).spec));
        continue;
      }
      batch.sort((a, b) => (a.spec.run < b.spec.run ? -1 : a.spec.run > b.spec.run ? 1 : 0));
      try {
        const { rows } = await this.pool.query<{ results: string[] }>({
          name: 'roster_engine_transitions',
          text: BATCH_SQL,
          values: [JSON.stringify(batch.map((p) => p.spec))],
        });
        const results = rows[0]?.results ?? [];
        batch.forEach((p, i) => {
          p.resolve(results[i] ?? 'missing');
        });
      } catch {
        await Promise.all(batch.map((p) => settle(p, transitionRaw(this.pool, p.spec))));
      }
    }
    this.inFlight = false;
  }
}

async function settle(p: Pending, result: Promise<string>): Promise<void> {
  try {
    p.resolve(await result);
  } catch (err) {
    p.reject(err);
  }
}
