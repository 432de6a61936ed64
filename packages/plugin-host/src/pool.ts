import { type ChildProcess, fork } from 'node:child_process';
import type { Writable } from 'node:stream';
import { DOORBELL_FD, ringCancellation } from './cancel-doorbell.js';
import { cancelledError, PluginHostError } from './errors.js';
import { createHostDispatch, type HostCapabilities, type HostDispatch } from './host-bridge.js';
import type { FromWorker, ToWorker } from './pool-protocol.js';
import { grantOf, type InvokeRequest, type InvokeResult } from './sandbox.js';
import { VerifiedPlugin } from './verified-plugin.js';
import { workerScript } from './worker-script.js';

export interface PluginPoolOptions {
  /** The real capabilities; they stay in this process and workers reach them over IPC. */
  readonly capabilities: HostCapabilities;
  /** Worker processes. Default 2. */
  readonly size?: number;
  /** Invocations a worker runs at once (they interleave while awaiting host calls). Default 8. */
  readonly maxConcurrentPerWorker?: number;
  /** A worker that has not answered by the invocation's budget + this is killed. Default 1 000 ms. */
  readonly graceMs?: number;
  /** Extra Node flags for workers. Default none. */
  readonly execArgv?: readonly string[];
  /** V8 heap cap per worker (QuickJS memory is capped per invocation on top). Default 256 MB. */
  readonly workerHeapMb?: number;
}

export interface PluginPoolStats {
  readonly workers: readonly { readonly pid: number | undefined; readonly inFlight: number }[];
  /** Workers replaced after a crash or a runaway. */
  readonly replaced: number;
  readonly queued: number;
}

export interface PluginPool {
  /**
   * Runs one action in a worker. Aborting `request.signal` rejects it with `CANCELLED` at once:
   * a queued invocation leaves the queue, a running one has its host calls aborted and its guest
   * interrupted; the worker is replaced only if the guest has not stopped within `graceMs`.
   */
  invoke(request: InvokeRequest): Promise<InvokeResult>;
  /** Resolves once every worker has started (invocations queue until then anyway). */
  ready(): Promise<void>;
  stats(): PluginPoolStats;
  close(): Promise<void>;
}

interface Invocation {
  readonly id: number;
  readonly worker: Worker;
  readonly dispatch: HostDispatch;
  readonly abort: AbortController;
  timer: NodeJS.Timeout;
  readonly resolve: (result: InvokeResult) => void;
  readonly reject: (error: unknown) => void;
}

interface Worker {
  child: ChildProcess | undefined;
  readonly inFlight: Map<number, Invocation>;
  ready: boolean;
  dead: boolean;
  readonly started: Promise<void>;
}

/**
 * Runs sandboxes in separate processes so that a crash or a runaway costs only that process:
 * the pool replaces it and fails only its in-flight invocations with a typed error.
 */
export function createPluginPool(options: PluginPoolOptions): PluginPool {
  const size = options.size ?? 2;
  const maxConcurrent = options.maxConcurrentPerWorker ?? 8;
  const graceMs = options.graceMs ?? 1000;
  const execArgv = [
    ...(options.execArgv ?? []),
    `--max-old-space-size=${options.workerHeapMb ?? 256}`,
  ];
  const workers: Worker[] = [];
  // Waiting invocations; called with an error when no worker can start.
  const queue: ((startError?: unknown) => void)[] = [];
  let nextId = 1;
  let replaced = 0;
  let closed = false;

  const settleAll = (worker: Worker, error: (inv: Invocation) => PluginHostError) => {
    for (const inv of worker.inFlight.values()) {
      clearTimeout(inv.timer);
      inv.abort.abort();
      inv.reject(error(inv));
    }
    worker.inFlight.clear();
  };

  const spawn = (): Worker => {
    let markStarted!: () => void;
    const worker: Worker = {
      child: undefined,
      inFlight: new Map(),
      ready: false,
      dead: false,
      started: new Promise<void>((resolve) => {
        markStarted = resolve;
      }),
    };
    workerScript().then(
      (script) => {
        if (closed || worker.dead) return markStarted();
        // Workers get no environment from the API process: secrets travel per invocation only.
        const stdio: ('inherit' | 'ipc' | 'pipe')[] = ['inherit', 'inherit', 'inherit', 'ipc'];
        stdio[DOORBELL_FD] = 'pipe';
        const child = fork(script, [], { execArgv, env: {}, serialization: 'advanced', stdio });
        worker.child = child;
        // Writing to a worker that just died must not crash the pool: its exit is handled below.
        child.stdio[DOORBELL_FD]?.on('error', () => {});
        child.on('message', (message: FromWorker) => {
          if (message.type === 'ready') {
            worker.ready = true;
            markStarted();
            drain();
          } else onMessage(worker, message);
        });
        child.on('exit', (code, signal) => {
          markStarted();
          if (worker.dead) return;
          worker.dead = true;
          settleAll(
            worker,
            () =>
              new PluginHostError(
                'WORKER_CRASHED',
                `The sandbox worker exited (${signal ?? code}) during the invocation; retry it.`,
                { exitCode: code, signal },
              ),
          );
          replace(worker);
        });
        child.on('error', () => {
          if (!worker.dead) child.kill('SIGKILL');
        });
      },
      (error: unknown) => {
        markStarted();
        worker.dead = true;
        for (const run of queue.splice(0)) run(error);
      },
    );
    return worker;
  };

  const replace = (worker: Worker) => {
    const index = workers.indexOf(worker);
    if (index === -1 || closed) return;
    replaced += 1;
    workers[index] = spawn();
    drain();
  };

  const kill = (worker: Worker, reason: (inv: Invocation) => PluginHostError) => {
    if (worker.dead) return;
    worker.dead = true;
    settleAll(worker, reason);
    worker.child?.kill('SIGKILL');
    replace(worker);
  };

  const onMessage = (worker: Worker, message: FromWorker) => {
    if (message.type === 'ready') return;
    const inv = worker.inFlight.get(message.id);
    // Only answer for invocations this worker is running: a worker cannot borrow another's grants.
    if (!inv) return;
    if (message.type === 'host-call') {
      // Sent before the worker heard of its cancellation: refuse it without touching the network.
      if (inv.abort.signal.aborted) {
        worker.child?.send({
          type: 'host-result',
          id: inv.id,
          callId: message.callId,
          ok: false,
          error: cancelledError().toJSON(),
        } satisfies ToWorker);
        return;
      }
      const reply = (
        payload: Omit<Extract<ToWorker, { type: 'host-result' }>, 'type' | 'id' | 'callId'>,
      ) => {
        if (!worker.dead && worker.inFlight.has(inv.id)) {
          worker.child?.send({
            type: 'host-result',
            id: inv.id,
            callId: message.callId,
            ...payload,
          } satisfies ToWorker);
        }
      };
      inv.dispatch(message.method, message.args, inv.abort.signal).then(
        (value) => reply({ ok: true, value }),
        (error: unknown) =>
          reply({
            ok: false,
            error:
              error instanceof PluginHostError
                ? error.toJSON()
                : { code: 'HTTP_FAILED', message: `Host call ${message.method} failed.` },
          }),
      );
      return;
    }
    worker.inFlight.delete(inv.id);
    clearTimeout(inv.timer);
    inv.abort.abort();
    if (message.ok) inv.resolve(message.result);
    else inv.reject(PluginHostError.fromJSON(message.error));
    drain();
  };

  const pick = (): Worker | undefined => {
    let best: Worker | undefined;
    for (const worker of workers) {
      if (!worker.ready || worker.dead || worker.inFlight.size >= maxConcurrent) continue;
      if (!best || worker.inFlight.size < best.inFlight.size) best = worker;
    }
    return best;
  };

  const drain = () => {
    while (queue.length > 0 && pick()) queue.shift()!();
  };

  /** Cancels a running invocation: the caller hears at once, the worker gets `graceMs` to stop. */
  const cancel = (worker: Worker, id: number) => {
    const inv = worker.inFlight.get(id);
    if (!inv || inv.abort.signal.aborted) return;
    inv.abort.abort();
    clearTimeout(inv.timer);
    inv.timer = setTimeout(
      () =>
        kill(worker, (other) =>
          other.id === id
            ? cancelledError()
            : new PluginHostError(
                'WORKER_CRASHED',
                'A cancelled invocation that did not stop on the same worker forced a restart; retry.',
              ),
        ),
      graceMs,
    );
    worker.child?.send({ type: 'cancel', id } satisfies ToWorker);
    ringCancellation(worker.child?.stdio[DOORBELL_FD] as Writable | null | undefined, id);
    // It keeps its slot until the worker reports the guest stopped.
    inv.reject(cancelledError());
  };

  const start = (
    request: InvokeRequest,
    worker: Worker,
    started: (cancelIt: () => void) => void,
  ): Promise<InvokeResult> =>
    new Promise<InvokeResult>((resolve, reject) => {
      const id = nextId++;
      const budget = (request.limits?.timeoutMs ?? 5000) + graceMs;
      const timer = setTimeout(() => {
        // The worker did not stop the guest in time: only killing the process is sure.
        kill(worker, (other) =>
          other.id === id
            ? new PluginHostError(
                'TIMEOUT',
                `The action ran past its budget; its worker was replaced.`,
                {
                  timeoutMs: request.limits?.timeoutMs ?? 5000,
                },
              )
            : new PluginHostError(
                'WORKER_CRASHED',
                'A runaway invocation on the same worker forced a restart; retry.',
              ),
        );
      }, budget);
      const abort = new AbortController();
      worker.inFlight.set(id, {
        id,
        worker,
        dispatch: createHostDispatch(
          { ...options.capabilities, ...request.boundCapabilities },
          grantOf(request),
        ),
        abort,
        timer,
        resolve,
        reject,
      });
      // The class does not survive IPC: send plain fields; the worker re-checks the integrity.
      // Bound capabilities are functions of this process: they never travel.
      const { plugin, boundCapabilities: _bound, signal: _signal, ...rest } = request;
      const wire = {
        ...rest,
        plugin: {
          manifest: plugin.manifest,
          code: plugin.code,
          integrity: plugin.integrity,
          publisher: plugin.publisher,
          keyId: plugin.keyId,
        },
      };
      worker.child!.send({ type: 'invoke', id, request: wire } satisfies ToWorker);
      started(() => cancel(worker, id));
    });

  for (let i = 0; i < size; i++) workers.push(spawn());

  return {
    invoke(request) {
      if (!VerifiedPlugin.is(request.plugin)) {
        return Promise.reject(
          new PluginHostError(
            'PLUGIN_UNVERIFIED',
            'Only a VerifiedPlugin from verifyPackage can run: verify the signed package first.',
          ),
        );
      }
      if (closed)
        return Promise.reject(new PluginHostError('POOL_CLOSED', 'The plugin pool is closed.'));
      const { signal } = request;
      if (signal?.aborted) return Promise.reject(cancelledError());
      return new Promise<InvokeResult>((resolve, reject) => {
        let cancelRunning: (() => void) | undefined;
        const onAbort = () => {
          const index = queue.indexOf(entry);
          if (index === -1) return cancelRunning?.();
          queue.splice(index, 1);
          reject(cancelledError());
        };
        const settle = () => signal?.removeEventListener('abort', onAbort);
        const entry = (startError?: unknown) => {
          if (startError || closed) {
            settle();
            reject(startError ?? new PluginHostError('POOL_CLOSED', 'The plugin pool is closed.'));
            return;
          }
          start(request, pick()!, (cancelIt) => {
            cancelRunning = cancelIt;
          }).then(
            (result) => {
              settle();
              resolve(result);
            },
            (error: unknown) => {
              settle();
              reject(error);
            },
          );
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(entry);
        drain();
      });
    },
    async ready() {
      await Promise.all(workers.map((worker) => worker.started));
    },
    stats: () => ({
      workers: workers.map((w) => ({ pid: w.child?.pid, inFlight: w.inFlight.size })),
      replaced,
      queued: queue.length,
    }),
    async close() {
      closed = true;
      for (const run of queue.splice(0))
        run(new PluginHostError('POOL_CLOSED', 'The plugin pool is closed.'));
      await Promise.all(
        workers.map(
          (worker) =>
            new Promise<void>((resolve) => {
              const child = worker.child;
              if (!child || worker.dead || child.exitCode !== null) {
                worker.dead = true;
                return resolve();
              }
              child.once('exit', () => resolve());
              kill(worker, () => new PluginHostError('POOL_CLOSED', 'The plugin pool was closed.'));
            }),
        ),
      );
    },
  };
}
