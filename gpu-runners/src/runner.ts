// The runner's loops: register, heartbeat, claim (with backoff), run through the model's
// batcher, complete. Crash safety is the server's (leases): the runner only re-registers after
// errors and keeps results it could not post until the server takes them.

import { freemem, totalmem } from 'node:os';
import {
  type ClaimedItem,
  type ExecutionProvider,
  exportDenseMlpOnnx,
  type ItemError,
  type ItemResult,
  type PoolSettings,
  type RegisterResponse,
} from '@roster/inference';
import { RunnerError } from './errors.js';
import { ModelServer } from './model-server.js';
import type { RunnerClient } from './runner-client.js';
import { SessionPool } from './session-pool.js';

export interface RunnerOptions {
  client: Pick<
    RunnerClient,
    'register' | 'heartbeat' | 'claim' | 'complete' | 'fetchManifest' | 'fetchModel'
  >;
  /** Shown in the portal and logs. */
  name: string;
  version: string;
  /** Local defaults; the pool's settings from `register` override them. Default ['cpu']. */
  providers?: ExecutionProvider[];
  /** Default false. */
  fallbackToCpu?: boolean;
  /** Session threads per model. Default 1. */
  threads?: number;
  /** onnxruntime intra-op threads per session. Default: onnxruntime's. */
  intraOpNumThreads?: number;
  /**
   * Let idle onnxruntime threads spin. Default false: spinning threads take the cores the
   * runner's own thread needs to claim, featurize and batch (measured: bench/inference.ts).
   */
  allowSpinning?: boolean;
  /** Default 64. */
  maxBatchSize?: number;
  /** Default 2. */
  maxQueueDelayMs?: number;
  /** Default 60. */
  leaseSeconds?: number;
  /** How long a claim may wait on the server for work. Default 1000. */
  claimWaitMs?: number;
  /** Claimed items held at once. Default 2 x maxBatchSize x threads. */
  maxInFlightItems?: number;
  /** Backoff after errors and empty claims: from `initialMs`, doubling, up to `maxMs`. Default 50 / 5000. */
  backoff?: { initialMs: number; maxMs: number };
  log?: (event: string, details?: Record<string, unknown>) => void;
}

/** Errors that the same input would hit again on any runner. */
const notRetryable = new Set<string>([
  'INPUT_INVALID',
  'INVALID_MODEL',
  'MODEL_SIGNATURE_MISMATCH',
  'FEATURIZER_SPEC_INVALID',
]);

export class Runner {
  private registration: RegisterResponse | undefined;
  private registering: Promise<RegisterResponse> | undefined;
  private providers: ExecutionProvider[] = [];
  private readonly models = new Map<string, Promise<ModelServer>>();
  private running = false;
  private drain = false;
  private inFlight = 0;
  private slotFreed: (() => void) | undefined;
  private outbox: { results: ItemResult[]; errors: ItemError[] } = { results: [], errors: [] };
  private sending: Promise<void> | undefined;
  private loops: Promise<void>[] = [];
  private readonly wakers = new Set<() => void>();
  /** Items completed and accepted by the server (for operators and tests). */
  completed = 0;

  constructor(private readonly options: RunnerOptions) {}

  private get settings(): Required<PoolSettings> {
    const pool = this.registration?.pool ?? {};
    return {
      providers: pool.providers ?? this.options.providers ?? ['cpu'],
      maxBatchSize: pool.maxBatchSize ?? this.options.maxBatchSize ?? 64,
      maxQueueDelayMs: pool.maxQueueDelayMs ?? this.options.maxQueueDelayMs ?? 2,
    };
  }

  private log(event: string, details?: Record<string, unknown>): void {
    this.options.log?.(event, details);
  }

  /**
   * Checks that the providers start (PROVIDER_UNAVAILABLE otherwise), registers, and starts
   * the heartbeat and claim loops. Throws UNAUTHORIZED when the pool token is refused.
   */
  async start(): Promise<void> {
    this.providers = await this.probeProviders(this.options.providers ?? ['cpu']);
    await this.register();
    const pool = this.registration!.pool.providers;
    if (pool && pool.join() !== (this.options.providers ?? ['cpu']).join()) {
      this.providers = await this.probeProviders(pool);
    }
    this.running = true;
    this.loops = [this.heartbeatLoop(), this.claimLoop()];
  }

  /** Stops claiming, finishes and posts what it holds, and releases the sessions. */
  async stop(): Promise<void> {
    this.running = false;
    for (const wake of this.wakers) wake();
    this.slotFreed?.();
    await Promise.all(this.loops);
    while (this.inFlight > 0) await new Promise<void>((r) => setTimeout(r, 5));
    await this.flushOutbox();
    const models = [...this.models.values()];
    this.models.clear();
    await Promise.all(
      models.map((m) =>
        m.then(
          (s) => s.close(),
          () => {},
        ),
      ),
    );
  }

  private async probeProviders(providers: ExecutionProvider[]): Promise<ExecutionProvider[]> {
    const pool = await SessionPool.create({
      model: exportDenseMlpOnnx({ layers: [2, 2] }),
      providers,
      fallbackToCpu: this.options.fallbackToCpu ?? false,
    });
    await pool.close();
    this.log('providers', { requested: providers, started: pool.provider });
    return [pool.provider];
  }

  private register(): Promise<RegisterResponse> {
    this.registering ??= this.options.client
      .register({
        name: this.options.name,
        version: this.options.version,
        capabilities: {
          providers: this.providers,
          memoryBytes: totalmem(),
          maxBatch: this.options.maxBatchSize ?? 64,
          threads: this.options.threads ?? 1,
        },
      })
      .then((r) => {
        this.registration = r;
        this.log('registered', { runnerId: r.runnerId, poolId: r.poolId, freeMemory: freemem() });
        return r;
      })
      .finally(() => {
        this.registering = undefined;
      });
    return this.registering;
  }

  /** After an error: re-register on UNAUTHORIZED (unknown runner id), then back off. */
  private async recover(error: unknown, backoffMs: number): Promise<void> {
    this.log('error', { code: (error as RunnerError).code, message: (error as Error).message });
    if ((error as RunnerError).code === 'UNAUTHORIZED') {
      await this.register().catch((e: Error) =>
        this.log('register failed', { message: e.message }),
      );
    }
    await this.pause(backoffMs);
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wakers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  private async heartbeatLoop(): Promise<void> {
    while (this.running) {
      await this.pause(this.registration!.heartbeatIntervalMs);
      if (!this.running) break;
      try {
        const res = await this.options.client.heartbeat({
          runnerId: this.registration!.runnerId,
          inFlight: this.inFlight,
          loadedModels: [...this.models.keys()],
        });
        this.drain = res.drain;
      } catch (error) {
        await this.recover(error, 0);
      }
    }
  }

  private async claimLoop(): Promise<void> {
    const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 50, maxMs: 5000 };
    const threads = this.options.threads ?? 1;
    let backoff = initialMs;
    while (this.running) {
      const limit = this.options.maxInFlightItems ?? 2 * this.settings.maxBatchSize * threads;
      if (this.drain || this.inFlight >= limit) {
        await new Promise<void>((r) => {
          this.slotFreed = r;
          if (this.drain) setTimeout(r, 100);
        });
        continue;
      }
      try {
        const { items } = await this.options.client.claim({
          runnerId: this.registration!.runnerId,
          maxItems: Math.min(limit - this.inFlight, this.settings.maxBatchSize * threads),
          leaseSeconds: this.options.leaseSeconds ?? 60,
          waitMs: this.options.claimWaitMs ?? 1000,
        });
        for (const item of items) void this.handle(item);
        if (items.length > 0) {
          backoff = initialMs;
        } else {
          await this.pause(backoff);
          backoff = Math.min(maxMs, backoff * 2);
        }
      } catch (error) {
        await this.recover(error, backoff);
        backoff = Math.min(maxMs, backoff * 2);
      }
    }
  }

  private async handle(item: ClaimedItem): Promise<void> {
    const started = performance.now();
    this.inFlight++;
    try {
      if (Date.parse(item.deadline) < Date.now()) {
        throw new RunnerError('INPUT_INVALID', 'The item was claimed after its deadline.', {
          code: 'DEADLINE_EXCEEDED',
        });
      }
      const server = await this.model(item.modelVersion);
      const scored = await server.infer(item.input);
      this.outbox.results.push({
        requestId: item.requestId,
        ...scored,
        latencyMs: performance.now() - started,
      });
    } catch (error) {
      const e = error as RunnerError;
      this.outbox.errors.push({
        requestId: item.requestId,
        code: (e.details?.code as string | undefined) ?? e.code ?? 'RUNNER_ERROR',
        message: e.message,
        retryable: !notRetryable.has(e.code),
      });
    } finally {
      this.inFlight--;
      this.slotFreed?.();
      this.slotFreed = undefined;
      void this.flushOutbox();
    }
  }

  private model(sha256: string): Promise<ModelServer> {
    let loading = this.models.get(sha256);
    if (!loading) {
      const { client } = this.options;
      loading = Promise.all([client.fetchManifest(sha256), client.fetchModel(sha256)]).then(
        ([manifest, model]) =>
          ModelServer.load({
            model,
            labels: manifest.labels,
            featurizer: manifest.featurizer,
            providers: this.settings.providers,
            fallbackToCpu: this.options.fallbackToCpu ?? false,
            threads: this.options.threads ?? 1,
            intraOpNumThreads: this.options.intraOpNumThreads,
            allowSpinning: this.options.allowSpinning ?? false,
            maxBatchSize: this.settings.maxBatchSize,
            maxQueueDelayMs: this.settings.maxQueueDelayMs,
          }),
      );
      this.models.set(sha256, loading);
      // A failed load is retried by the next item rather than cached.
      loading.catch(() => this.models.delete(sha256));
    }
    return loading;
  }

  /** Posts everything in the outbox; one post at a time, later items go in the next one. */
  private flushOutbox(): Promise<void> {
    if (this.sending) return this.sending;
    if (this.outbox.results.length + this.outbox.errors.length === 0) return Promise.resolve();
    const batch = this.outbox;
    this.outbox = { results: [], errors: [] };
    this.sending = (async () => {
      let backoff = this.options.backoff?.initialMs ?? 50;
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await this.options.client.complete({
            runnerId: this.registration!.runnerId,
            results: batch.results,
            errors: batch.errors,
          });
          this.completed += res.accepted;
          if (res.rejected.length > 0) this.log('rejected', { rejected: res.rejected });
          return;
        } catch (error) {
          // While stopping, give up after a few tries: the leases bring the items back.
          if (!this.running && attempt >= 3) {
            this.log('results dropped at shutdown; their leases will expire', {
              items: batch.results.length + batch.errors.length,
            });
            return;
          }
          await this.recover(error, backoff);
          backoff = Math.min(this.options.backoff?.maxMs ?? 5000, backoff * 2);
        }
      }
    })().finally(() => {
      this.sending = undefined;
      if (this.outbox.results.length + this.outbox.errors.length > 0) void this.flushOutbox();
    });
    return this.sending;
  }
}
