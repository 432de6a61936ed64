// Dynamic batching: requests wait at most `maxQueueDelayMs` (from the oldest queued one) to
// be sent together, up to `maxBatchSize` per batch. While `maxConcurrentBatches` batches are
// running, due requests keep queueing, so batches grow exactly when the model is the
// bottleneck and stay small (low latency) when it is not.

import { RunnerError } from './errors.js';

export interface DynamicBatcherOptions<I, O> {
  /** Most items per batch. */
  maxBatchSize: number;
  /** Longest an item waits for others before its batch is sent, ms. 0 sends on the next tick. */
  maxQueueDelayMs: number;
  /** Batches running at once; more wait in the queue. Default 2. */
  maxConcurrentBatches?: number;
  /** Runs one batch; resolves with one output per item, in order. */
  run: (items: I[]) => Promise<O[]>;
}

interface Queued<I, O> {
  item: I;
  enqueuedAt: number;
  resolve: (out: O) => void;
  reject: (error: unknown) => void;
}

export interface BatcherStats {
  batches: number;
  items: number;
  /** Batches sent because they were full / because the oldest item's delay ran out. */
  fullBatches: number;
  delayedBatches: number;
}

export class DynamicBatcher<I, O> {
  private readonly queue: Queued<I, O>[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = 0;
  private closed = false;
  private readonly idle = new Set<() => void>();
  private readonly maxConcurrent: number;
  readonly stats: BatcherStats = { batches: 0, items: 0, fullBatches: 0, delayedBatches: 0 };

  constructor(private readonly options: DynamicBatcherOptions<I, O>) {
    const { maxBatchSize, maxQueueDelayMs } = options;
    this.maxConcurrent = options.maxConcurrentBatches ?? 2;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
      throw new RunnerError(
        'CONFIG_INVALID',
        `maxBatchSize must be an integer >= 1, got ${maxBatchSize}.`,
      );
    }
    if (!(maxQueueDelayMs >= 0)) {
      throw new RunnerError(
        'CONFIG_INVALID',
        `maxQueueDelayMs must be >= 0, got ${maxQueueDelayMs}.`,
      );
    }
    if (!Number.isInteger(this.maxConcurrent) || this.maxConcurrent < 1) {
      throw new RunnerError(
        'CONFIG_INVALID',
        `maxConcurrentBatches must be an integer >= 1, got ${this.maxConcurrent}.`,
      );
    }
  }

  /** Items waiting for a batch. */
  get queued(): number {
    return this.queue.length;
  }

  /** Batches sent and not yet answered. */
  get inFlight(): number {
    return this.running;
  }

  /** Queues `item`; resolves with its output, or rejects with its batch's error. */
  submit(item: I): Promise<O> {
    if (this.closed) {
      return Promise.reject(
        new RunnerError('BATCHER_CLOSED', 'The batcher is closed: the runner is shutting down.'),
      );
    }
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, enqueuedAt: Date.now(), resolve, reject });
      // Only a full batch leaves from submit: items submitted in the same tick share a batch.
      this.pump(false);
    });
  }

  /** Stops taking items, sends what is queued (ignoring the delay) and waits for every batch. */
  async close(): Promise<void> {
    this.closed = true;
    this.pump(true);
    if (this.queue.length === 0 && this.running === 0) return;
    await new Promise<void>((resolve) => this.idle.add(resolve));
  }

  /** Sends every batch that is due and has a free slot; arms the timer for the rest. */
  private pump(sendDue: boolean): void {
    const { maxBatchSize, maxQueueDelayMs } = this.options;
    while (this.queue.length > 0 && this.running < this.maxConcurrent) {
      const full = this.queue.length >= maxBatchSize;
      const due = Date.now() - this.queue[0]!.enqueuedAt >= maxQueueDelayMs;
      if (!full && !(sendDue && due) && !this.closed) break;
      this.dispatch(this.queue.splice(0, maxBatchSize), full);
    }
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // With every slot busy, the next batch starts when one finishes (which calls pump).
    if (this.queue.length > 0 && this.running < this.maxConcurrent) {
      const wait = Math.max(0, this.queue[0]!.enqueuedAt + maxQueueDelayMs - Date.now());
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump(true);
      }, wait);
    }
    if (this.queue.length === 0 && this.running === 0) {
      for (const resolve of this.idle) resolve();
      this.idle.clear();
    }
  }

  private dispatch(batch: Queued<I, O>[], full: boolean): void {
    this.running++;
    this.stats.batches++;
    this.stats.items += batch.length;
    if (full) this.stats.fullBatches++;
    else this.stats.delayedBatches++;
    let outputs: Promise<O[]>;
    try {
      outputs = this.options.run(batch.map((q) => q.item));
    } catch (error) {
      outputs = Promise.reject(error);
    }
    outputs
      .then((results) => {
        if (!Array.isArray(results) || results.length !== batch.length) {
          throw new RunnerError(
            'BATCH_FAILED',
            `The batch function returned ${Array.isArray(results) ? results.length : 'no'} outputs for ${batch.length} items.`,
          );
        }
        for (const [i, q] of batch.entries()) q.resolve(results[i]!);
      })
      .catch((error: unknown) => {
        for (const q of batch) q.reject(error);
      })
      .finally(() => {
        this.running--;
        this.pump(true);
      });
  }
}
