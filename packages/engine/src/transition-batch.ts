import type { Pool } from '@roster/db';
import { type TransitionSpec, transitionRaw, wireSpec } from './transition.js';

const BATCH_SQL = 'SELECT roster_engine_transitions($1::jsonb) AS results';

interface Pending {
  /** One transition, or a chain of them for one run (see applyChain). */
  specs: TransitionSpec[];
  /** roster_engine_transition's raw results, in order (see parseTransitionResult). */
  resolve: (results: string[]) => void;
  reject: (error: unknown) => void;
}

/**
 * A worker's transition statements in flight at once, by default (TransitionBatcherOptions).
 * Three, not two: while this process hands a returned statement's results on and plans more, two
 * others keep Postgres busy (on two cores: about 7% more one-step runs/s and 15% more chained
 * steps/s than with two; four gained nothing more).
 */
export const TRANSITION_LANES = 3;

/**
 * Transitions in one statement, by default (TransitionBatcherOptions.maxBatch). Each statement
 * costs its commit, a round trip, and a call of the functions, and the fewer the statements, the
 * less of that a transition pays; but a worker's lanes must still share its work. 200: the start
 * batches of ten concurrent jobs (50 runs each, 500 transitions) go in three statements, one a
 * lane. Measured on two cores against 100 (decision 0005, thirteenth session): one-step runs/s
 * 4–12% higher and chained steps/s about 12%, with 3–16% less Postgres CPU; 300 was no better,
 * and 500 put a worker's start batches in one statement at a time (26% fewer runs/s than 250).
 */
export const MAX_TRANSITIONS_PER_STATEMENT = 200;

export interface TransitionBatcherOptions {
  /**
   * Transitions in one statement, beyond which the rest go in another batch (on another lane
   * when one is free). A chain is never split. Default MAX_TRANSITIONS_PER_STATEMENT.
   */
  maxBatch?: number;
  /**
   * Batches in flight at once, each on its own connection (so Postgres works on them on as many
   * cores). Default TRANSITION_LANES.
   */
  lanes?: number;
}

/**
 * Applies the transitions of one worker's concurrent jobs in as few commits as possible:
 * transitions asked for in the same turn of the event loop go together (roster_engine_transitions,
 * one statement), on up to `lanes` connections at once; those that arrive while every lane is busy
 * go in the next batch. Each commit is a WAL flush and a round trip, and under load these, not the
 * work, bound a worker's steps per second. A failed batch is retried one transition at a time, so
 * one bad transition cannot fail its neighbours.
 *
 * A lane is not left idle while this process is busy: a full batch goes at once, without waiting
 * for the turn to end, and a lane whose statement has returned sends the next queued batch before
 * the returned one's callers run on (they plan more transitions, which would otherwise hold the
 * next statement back by the time they take).
 */
export class TransitionBatcher {
  private queue: Pending[] = [];
  /** Transitions in `queue`. */
  private queued = 0;
  private busy = 0;
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly lanes: number;

  constructor(
    private readonly pool: Pool,
    options: TransitionBatcherOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? MAX_TRANSITIONS_PER_STATEMENT;
    this.lanes = options.lanes ?? TRANSITION_LANES;
  }

  apply(spec: TransitionSpec): Promise<string> {
    return this.applyChain([spec]).then((results) => results[0] ?? 'missing');
  }

  /**
   * Applies a chain of one run's transitions in order, in the same statement: each after the
   * first is marked `after`, so it applies only if the one before it applied; the one before hands
   * it no job, as both commit together (roster_engine_transitions). Results in order.
   */
  applyChain(specs: TransitionSpec[]): Promise<string[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ specs, resolve, reject });
      this.queued += specs.length;
      if (this.queued >= this.maxBatch) void this.flush();
      else this.schedule();
    });
  }

  /**
   * Flushes once the current turn of the event loop is over: the jobs whose previous transitions
   * just committed together ask for their next ones in that turn, and share a batch.
   */
  private schedule(): void {
    if (this.scheduled || this.busy >= this.lanes || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.busy >= this.lanes || this.queue.length === 0) return;
    this.busy++;
    let batch: Pending[] = [];
    let handBack = () => {};
    try {
      let take = 0;
      for (let specs = 0; take < this.queue.length && specs < this.maxBatch; take++) {
        specs += (this.queue[take] as Pending).specs.length;
      }
      batch = this.queue.splice(0, take);
      for (const p of batch) this.queued -= p.specs.length;
      if (this.queue.length > 0) this.schedule();
      handBack = await this.send(batch);
    } catch (err) {
      handBack = () => {
        for (const p of batch) p.reject(err);
      };
    } finally {
      this.busy--;
      // The next batch goes before this one's callers run on.
      if (this.queue.length > 0) void this.flush();
    }
    handBack();
  }

  /**
   * Applies a batch; resolves to what hands its results to its callers. A lone transition that
   * fails rejects, and flush hands its caller the error.
   */
  private async send(batch: Pending[]): Promise<() => void> {
    if (batch.length === 1 && (batch[0] as Pending).specs.length === 1) {
      const only = batch[0] as Pending;
      const result = await transitionRaw(this.pool, only.specs[0] as TransitionSpec);
      return () => only.resolve([result]);
    }
    // Two batches lock runs in the same order, so lanes cannot deadlock each other on runs.
    const runOf = (p: Pending) => (p.specs[0] as TransitionSpec).run;
    batch.sort((a, b) => (runOf(a) < runOf(b) ? -1 : runOf(a) > runOf(b) ? 1 : 0));
    let results: string[];
    try {
      results = await transitions(
        this.pool,
        batch.flatMap((p) => p.specs),
      );
    } catch {
      await Promise.all(batch.map((p) => settle(p, transitions(this.pool, p.specs))));
      return () => {};
    }
    return () => {
      let at = 0;
      for (const p of batch) {
        p.resolve(p.specs.map((_, i) => results[at + i] ?? 'missing'));
        at += p.specs.length;
      }
    };
  }
}

/** One statement; a chain's later transitions are marked `after` (see applyChain). */
async function transitions(pool: Pool, specs: TransitionSpec[]): Promise<string[]> {
  const { rows } = await pool.query<{ results: string[] }>({
    name: 'roster_engine_transitions',
    text: BATCH_SQL,
    values: [JSON.stringify(specs.map(wireSpec))],
  });
  return rows[0]?.results ?? [];
}

async function settle(p: Pending, results: Promise<string[]>): Promise<void> {
  try {
    p.resolve(await results);
  } catch (err) {
    p.reject(err);
  }
}
