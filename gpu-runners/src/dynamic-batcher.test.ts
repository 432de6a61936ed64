import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamicBatcher } from './dynamic-batcher.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A batch function that records batch contents and is resolved by the test. */
function recorder() {
  const batches: number[][] = [];
  const finish: Array<() => void> = [];
  const run = (items: number[]) => {
    batches.push(items);
    return new Promise<number[]>((resolve) => finish.push(() => resolve(items.map((x) => x * 10))));
  };
  return { batches, finish, run };
}

describe('DynamicBatcher', () => {
  it('sends a full batch at once, without waiting for the delay', async () => {
    const r = recorder();
    const b = new DynamicBatcher({ maxBatchSize: 4, maxQueueDelayMs: 50, run: r.run });
    const outs = [1, 2, 3, 4, 5].map((x) => b.submit(x));
    expect(r.batches).toEqual([[1, 2, 3, 4]]);
    r.finish[0]!();
    await expect(Promise.all(outs.slice(0, 4))).resolves.toEqual([10, 20, 30, 40]);
    expect(b.queued).toBe(1);
  });

  it('sends a partial batch when the oldest item has waited maxQueueDelayMs', async () => {
    const r = recorder();
    const b = new DynamicBatcher({ maxBatchSize: 8, maxQueueDelayMs: 10, run: r.run });
    const first = b.submit(1);
    await vi.advanceTimersByTimeAsync(6);
    const second = b.submit(2);
    await vi.advanceTimersByTimeAsync(3);
    expect(r.batches).toEqual([]); // 9 ms after the first item
    await vi.advanceTimersByTimeAsync(1);
    expect(r.batches).toEqual([[1, 2]]); // 10 ms after the first, 4 after the second
    r.finish[0]!();
    await expect(Promise.all([first, second])).resolves.toEqual([10, 20]);
    expect(b.stats).toMatchObject({ batches: 1, delayedBatches: 1, fullBatches: 0 });
  });

  it('lets batches grow while every slot is busy, then sends them when a slot frees', async () => {
    const r = recorder();
    const b = new DynamicBatcher({
      maxBatchSize: 3,
      maxQueueDelayMs: 1,
      maxConcurrentBatches: 1,
      run: r.run,
    });
    void b.submit(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(r.batches).toEqual([[1]]);
    for (const x of [2, 3, 4, 5]) void b.submit(x);
    await vi.advanceTimersByTimeAsync(20); // long past the delay, but the only slot is busy
    expect(r.batches).toEqual([[1]]);
    r.finish[0]!();
    await vi.advanceTimersByTimeAsync(0);
    expect(r.batches).toEqual([[1], [2, 3, 4]]);
    r.finish[1]!();
    await vi.advanceTimersByTimeAsync(0);
    expect(r.batches).toEqual([[1], [2, 3, 4], [5]]);
  });

  it('rejects every item of a failed batch, and only those', async () => {
    let calls = 0;
    const b = new DynamicBatcher<number, number>({
      maxBatchSize: 2,
      maxQueueDelayMs: 5,
      run: async (items) => {
        calls++;
        if (calls === 1) throw new Error('model exploded');
        return items;
      },
    });
    const failed = [b.submit(1), b.submit(2)].map((p) => p.catch((e: Error) => e.message));
    const ok = b.submit(3);
    await vi.advanceTimersByTimeAsync(5);
    await expect(Promise.all(failed)).resolves.toEqual(['model exploded', 'model exploded']);
    await expect(ok).resolves.toBe(3);
  });

  it('refuses a batch function that returns the wrong number of outputs', async () => {
    const b = new DynamicBatcher<number, number>({
      maxBatchSize: 2,
      maxQueueDelayMs: 0,
      run: async () => [1],
    });
    const outs = [b.submit(1), b.submit(2)];
    await expect(outs[0]).rejects.toMatchObject({ code: 'BATCH_FAILED' });
    await expect(outs[1]).rejects.toThrow(/returned 1 outputs for 2 items/);
  });

  it('close sends what is queued without waiting for the delay, then refuses new items', async () => {
    const r = recorder();
    const b = new DynamicBatcher({ maxBatchSize: 8, maxQueueDelayMs: 1000, run: r.run });
    const out = b.submit(7);
    const closed = b.close();
    expect(r.batches).toEqual([[7]]);
    r.finish[0]!();
    await closed;
    await expect(out).resolves.toBe(70);
    await expect(b.submit(8)).rejects.toMatchObject({ code: 'BATCHER_CLOSED' });
  });

  it.each([
    [{ maxBatchSize: 0, maxQueueDelayMs: 1 }, /maxBatchSize/],
    [{ maxBatchSize: 2, maxQueueDelayMs: -1 }, /maxQueueDelayMs/],
    [{ maxBatchSize: 2, maxQueueDelayMs: 1, maxConcurrentBatches: 0 }, /maxConcurrentBatches/],
  ])('refuses invalid options %j', (options, message) => {
    expect(() => new DynamicBatcher({ ...options, run: async (x: number[]) => x })).toThrow(
      message,
    );
  });
});
