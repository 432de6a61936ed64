// N worker threads, each with its own onnxruntime session of the same model. `run` sends a
// batch to the least busy thread, so the caller's event loop stays free while models compute.

import { Worker } from 'node:worker_threads';
import type { ExecutionProvider } from '@roster/inference';
import { RunnerError } from './errors.js';
import {
  type ProviderAttempt,
  type ProviderChoice,
  providerAttempts,
  providerUnavailableError,
} from './providers.js';

/** Tensor data as it crosses the thread boundary (onnxruntime's `new Tensor(type, data, dims)`). */
export interface TensorData {
  type: 'float32' | 'int64' | 'int32' | 'float64' | 'uint8' | 'bool';
  data: Float32Array | BigInt64Array | Int32Array | Float64Array | Uint8Array;
  dims: number[];
}
export type Feeds = Record<string, TensorData>;

export interface SessionPoolOptions extends ProviderChoice {
  /** The ONNX model file. */
  model: Uint8Array;
  /** Worker threads, each with its own session. Default 1. */
  threads?: number;
  /** onnxruntime intra-op threads per session. Default: onnxruntime's own (one per core). */
  intraOpNumThreads?: number;
  /**
   * Whether idle intra-op threads spin waiting for work. Default true (onnxruntime's); false
   * leaves the cores to the runner's own thread and to other sessions when cores are few.
   */
  allowSpinning?: boolean;
}

type WorkerReply =
  | { type: 'ready'; provider: ExecutionProvider; inputNames: string[]; outputNames: string[] }
  | { type: 'failed'; failures: Array<{ provider: ExecutionProvider; message: string }> }
  | { type: 'result'; id: number; outputs: Feeds }
  | { type: 'error'; id: number; message: string };

interface Pending {
  resolve: (outputs: Feeds) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

interface Ready {
  provider: ExecutionProvider;
  inputNames: string[];
  outputNames: string[];
}

const workerUrl = new URL('./session-worker.js', import.meta.url);

export class SessionPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly options: SessionPoolOptions,
    private readonly attempt: ProviderAttempt,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {}

  /** The provider the sessions run on (the first of the choice that started). */
  get provider(): ExecutionProvider {
    return this.attempt.provider;
  }

  get threads(): number {
    return this.slots.length;
  }

  /** Batches sent and not yet answered, over all threads. */
  get inFlight(): number {
    return this.slots.reduce((n, s) => n + s.pending.size, 0);
  }

  /**
   * Starts the threads. The first thread tries the providers in order and the others use the
   * one that started; throws PROVIDER_UNAVAILABLE (naming each provider and the fallback rule)
   * when none does, or SESSION_FAILED when the model cannot load.
   */
  static async create(options: SessionPoolOptions): Promise<SessionPool> {
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1) {
      throw new RunnerError('CONFIG_INVALID', `threads must be an integer >= 1, got ${threads}.`);
    }
    const first = await startWorker(options, providerAttempts(options));
    const pool = new SessionPool(
      options,
      first.attempt,
      first.ready.inputNames,
      first.ready.outputNames,
    );
    pool.adopt(first.worker);
    try {
      const rest = await Promise.all(
        Array.from({ length: threads - 1 }, () => startWorker(options, [first.attempt])),
      );
      for (const r of rest) pool.adopt(r.worker);
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /**
   * Runs one batch on the least busy thread. Inputs' buffers are copied, unless `transfer` is
   * set: then they move to the thread and are unusable here afterwards (saves a copy per batch).
   */
  run(feeds: Feeds, options: { transfer?: boolean } = {}): Promise<Feeds> {
    if (this.closed) {
      return Promise.reject(
        new RunnerError(
          'POOL_CLOSED',
          'The session pool is closed: create a new one to run more batches.',
        ),
      );
    }
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = this.nextId++;
    return new Promise<Feeds>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      const transfer = options.transfer
        ? [...new Set(Object.values(feeds).map((t) => t.data.buffer as ArrayBuffer))]
        : [];
      slot.worker.postMessage({ id, feeds }, transfer);
    });
  }

  /** Stops every thread; batches still running are rejected with POOL_CLOSED. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    for (const s of slots) {
      for (const p of s.pending.values()) {
        p.reject(
          new RunnerError('POOL_CLOSED', 'The session pool closed before the batch finished.'),
        );
      }
      s.pending.clear();
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private adopt(worker: Worker): void {
    const slot: Slot = { worker, pending: new Map() };
    this.slots.push(slot);
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type !== 'result' && reply.type !== 'error') return;
      const p = slot.pending.get(reply.id);
      if (!p) return;
      slot.pending.delete(reply.id);
      if (reply.type === 'result') p.resolve(reply.outputs);
      else
        p.reject(
          new RunnerError('BATCH_FAILED', `onnxruntime failed to run the batch: ${reply.message}`),
        );
    });
    const crashed = (reason: string) => {
      const at = this.slots.indexOf(slot);
      if (at < 0) return;
      this.slots.splice(at, 1);
      for (const p of slot.pending.values()) {
        p.reject(
          new RunnerError(
            'WORKER_CRASHED',
            `A session thread died (${reason}); the batch can be retried.`,
          ),
        );
      }
      slot.pending.clear();
      if (this.closed) return;
      // Replace the thread so the pool keeps its size; if that fails too, the pool shrinks.
      startWorker(this.options, [this.attempt]).then(
        (r) => (this.closed ? void r.worker.terminate() : this.adopt(r.worker)),
        () => {},
      );
    };
    worker.on('error', (e) => crashed(e.message));
    worker.on('exit', (code) => crashed(`exit code ${code}`));
  }
}

async function startWorker(
  options: SessionPoolOptions,
  attempts: ProviderAttempt[],
): Promise<{ worker: Worker; attempt: ProviderAttempt; ready: Ready }> {
  const sessionOptions = {
    ...(options.intraOpNumThreads === undefined
      ? {}
      : { intraOpNumThreads: options.intraOpNumThreads }),
    ...(options.allowSpinning === false
      ? {
          extra: {
            session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } },
          },
        }
      : {}),
  };
  const worker = new Worker(workerUrl, {
    workerData: { model: options.model, attempts, sessionOptions },
  });
  // Only our own listeners are removed afterwards: Worker.removeAllListeners() also drops the
  // internal ones that deliver messages.
  let onMessage!: (r: WorkerReply) => void;
  let onError!: (e: Error) => void;
  let onExit!: (code: number) => void;
  const reply = await new Promise<WorkerReply>((resolve, reject) => {
    onMessage = resolve;
    onError = reject;
    onExit = (code) => reject(new Error(`exit code ${code}`));
    worker.once('message', onMessage).once('error', onError).once('exit', onExit);
  }).catch((cause: Error) => {
    throw new RunnerError(
      'SESSION_FAILED',
      `The session thread failed to start (${cause.message}): check that onnxruntime-node is installed.`,
      {},
      { cause },
    );
  });
  worker.off('message', onMessage).off('error', onError).off('exit', onExit);
  if (reply.type === 'ready') {
    return { worker, attempt: attempts.find((a) => a.provider === reply.provider)!, ready: reply };
  }
  await worker.terminate();
  const failures = reply.type === 'failed' ? reply.failures : [];
  const modelRefused =
    failures.length > 0 &&
    failures.every((f) => /protobuf parsing failed|Load model/i.test(f.message));
  if (modelRefused) {
    throw new RunnerError(
      'SESSION_FAILED',
      `onnxruntime cannot load the model: ${failures[0]!.message}. Check the model version's file.`,
      { failures },
    );
  }
  throw providerUnavailableError(options, failures);
}
