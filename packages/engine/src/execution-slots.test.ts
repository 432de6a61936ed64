import { describe, expect, it } from 'vitest';
import { ExecutionSlots } from './execution-slots.js';

/** Lets every settled promise's continuations run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ExecutionSlots', () => {
  it('lets `size` holders in at once and the next waiter in as one releases, in order', async () => {
    const slots = new ExecutionSlots(2);
    const a = await slots.take();
    const b = await slots.take();
    const entered: string[] = [];
    const c = slots.take().then((slot) => {
      entered.push('c');
      return slot;
    });
    const d = slots.take().then((slot) => {
      entered.push('d');
      return slot;
    });
    await settle();
    expect(entered).toEqual([]);
    expect(slots.busy).toBe(2);
    a.release();
    await settle();
    expect(entered).toEqual(['c']);
    // A second release of the same hold frees nothing more.
    a.release();
    await settle();
    expect(entered).toEqual(['c']);
    b.release();
    await settle();
    expect(entered).toEqual(['c', 'd']);
    (await c).release();
    (await d).release();
    expect(slots.busy).toBe(0);
  });

  it('hands the slot to a waiter while a commit runs, and the committer waits to execute again', async () => {
    const slots = new ExecutionSlots(1);
    const committer = await slots.take();
    let finishCommit: (value: string) => void = () => {};
    const commit = committer.whileCommitting(
      () =>
        new Promise<string>((resolve) => {
          finishCommit = resolve;
        }),
    );
    // The commit has not finished, and the next job already executes.
    const next = await slots.take();
    expect(slots.busy).toBe(1);
    finishCommit('applied');
    await expect(commit).resolves.toBe('applied');
    let retaken = false;
    const again = committer.retake().then(() => {
      retaken = true;
    });
    await settle();
    expect(retaken).toBe(false);
    next.release();
    await again;
    expect(retaken).toBe(true);
    committer.release();
    expect(slots.busy).toBe(0);
  });

  it('lets no more fetches start than slots are free', async () => {
    const slots = new ExecutionSlots(2);
    expect(slots.gate()).toBeNull();
    expect(slots.gate()).toBeNull();
    let third = false;
    const gated = (slots.gate() as Promise<null>).then(() => {
      third = true;
    });
    await settle();
    expect(third).toBe(false);
    // The first fetch found nothing: the third may start.
    slots.fetched();
    await gated;
    expect(third).toBe(true);
    // Both others found jobs, which take the two slots: no fetch starts until one is back.
    slots.fetched();
    slots.fetched();
    const [a, b] = [await slots.take(), await slots.take()];
    let fourth = false;
    const waiting = (slots.gate() as Promise<null>).then(() => {
      fourth = true;
    });
    await settle();
    expect(fourth).toBe(false);
    a.release();
    await waiting;
    expect(fourth).toBe(true);
    b.release();
  });

  it('never makes a job wait for its slot on a fetch that has found nothing', async () => {
    const slots = new ExecutionSlots(1);
    const job = await slots.take();
    // The job commits, handing its slot back; a fetch starts meanwhile and waits for work.
    await job.whileCommitting(async () => {
      expect(slots.gate()).toBeNull();
    });
    // The job takes its slot again for its next step, though the fetch is still under way.
    await job.retake();
    expect(slots.busy).toBe(1);
    job.release();
    slots.fetched();
    expect(slots.busy).toBe(0);
  });

  it('refuses a size that is not a positive integer', () => {
    for (const size of [0, -1, 1.5, Number.NaN]) {
      expect(() => new ExecutionSlots(size)).toThrow(RangeError);
    }
  });
});
