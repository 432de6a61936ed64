/**
 * A worker's execution slots: how many of its jobs execute at once (evaluate expressions, read
 * the run, call a connector or a model). A step job holds a slot while it executes and hands it
 * back while its transition waits for the batched commit, as graphile-worker frees a job's slot
 * before its completion commits. The worker can then hold more jobs than it has slots, and the
 * jobs waiting on one commit no longer leave the slots idle. Jobs waiting for a slot are served
 * in order.
 *
 * The queue's fetches go through `gate`: no more fetches are under way at once than there are
 * free slots, so a worker whose slots are all busy leaves new jobs to other workers rather than
 * holding them while it cannot run them. A fetch holds no slot while it waits for a job: a job
 * that has one in hand and waits to take a slot again (the next step of an inline chain) must
 * never wait on fetches that may find nothing.
 */
export class ExecutionSlots {
  private free: number;
  /** Jobs waiting for a slot. */
  private readonly waiting: Array<() => void> = [];
  /** Fetches the gate let through that have not found a job, or nothing, yet. */
  private fetching = 0;
  /** Fetches waiting at the gate. */
  private readonly gated: Array<() => void> = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`execution slots: size must be a positive integer, got ${size}`);
    }
    this.free = size;
  }

  /** Slots held now. */
  get busy(): number {
    return this.size - this.free;
  }

  /**
   * Lets a fetch of the queue start once fewer fetches are under way than slots are free (null at
   * once when that is so now: graphile-worker's `forbiddenFlags`, no flags skipped). The fetch
   * must report its end with `fetched`.
   */
  gate(): null | Promise<null> {
    if (this.gated.length === 0 && this.fetchMayStart()) {
      this.fetching++;
      return null;
    }
    return new Promise((resolve) => this.gated.push(() => resolve(null)));
  }

  /** A fetch the gate let through has found a job, or nothing. */
  fetched(): void {
    if (this.fetching > 0) this.fetching--;
    this.openGate();
  }

  /** Waits for a slot. The caller gives it back with `release()`, at the latest when it ends. */
  async take(): Promise<ExecutionSlot> {
    const slot = new ExecutionSlot(this);
    await slot.retake();
    return slot;
  }

  /** @internal */
  acquire(): Promise<void> {
    if (this.free > 0 && this.waiting.length === 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** @internal */
  giveBack(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the oldest job waiting; else it may let a fetch start.
    if (next) {
      next();
      return;
    }
    this.free++;
    this.openGate();
  }

  private fetchMayStart(): boolean {
    return this.free - this.fetching > 0;
  }

  private openGate(): void {
    while (this.gated.length > 0 && this.fetchMayStart()) {
      this.fetching++;
      (this.gated.shift() as () => void)();
    }
  }
}

/** One job's hold on a slot, which it may hand back and take again. */
export class ExecutionSlot {
  private held = false;

  constructor(private readonly slots: ExecutionSlots) {}

  /** Takes the slot again, if handed back; waits for one when all are busy. */
  async retake(): Promise<void> {
    if (this.held) return;
    await this.slots.acquire();
    this.held = true;
  }

  /** Hands the slot back; does nothing when not held. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    this.slots.giveBack();
  }

  /**
   * Hands the slot back while `commit` runs: the job executes nothing meanwhile. It is not taken
   * again afterwards; the job calls `retake()` before it executes anything more.
   */
  whileCommitting<T>(commit: () => Promise<T>): Promise<T> {
    this.release();
    return commit();
  }
}
