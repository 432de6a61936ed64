import type { CapabilityName, LogLevel } from '@roster/plugin-sdk';
import type {
  QuickJSContext,
  QuickJSDeferredPromise,
  QuickJSHandle,
  QuickJSRuntime,
} from 'quickjs-emscripten-core';
import { cancelledError, PluginHostError } from './errors.js';
import {
  actionFailure,
  guestFailure,
  isHostLevelCrash,
  parseLog,
  safeDump,
  timeoutError,
  unwrapOrFail,
} from './guest-outcome.js';
import { GUEST_PRELUDE } from './guest-prelude.js';
import {
  createHostDispatch,
  type HostCapabilities,
  type HostDispatch,
  type InvocationGrant,
} from './host-bridge.js';
import { SchemaValidator } from './io-validation.js';
import { QuickJSEngine } from './quickjs-engine.js';
import { VerifiedPlugin } from './verified-plugin.js';

export interface SandboxLimits {
  /** Wall-clock budget for the whole invocation, host calls included. Default 5 000 ms. */
  readonly timeoutMs?: number;
  /** QuickJS heap limit. Default 32 MiB. */
  readonly memoryBytes?: number;
  /** Guest stack. Default and maximum 256 KiB (deeper guest recursion can exhaust Node's own stack). */
  readonly stackBytes?: number;
  /** Host calls per invocation. Default 100. */
  readonly maxHostCalls?: number;
  /** Log entries kept per invocation. Default 100. */
  readonly maxLogEntries?: number;
}

/** Past this WASM heap size the module is replaced after the invocation, returning the memory. */
const RECYCLE_HEAP_BYTES = 256 * 1024 * 1024;

export interface InvokeRequest {
  /** From `verifyPackage`: the only way code reaches the sandbox. */
  readonly plugin: VerifiedPlugin;
  readonly actionId: string;
  readonly input: unknown;
  /** The decrypted connection. Default `{}`. */
  readonly secrets?: Readonly<Record<string, string>>;
  readonly grantedScopes: readonly CapabilityName[];
  /** `run/step/attempt`. */
  readonly idempotencyKey: string;
  readonly installationId?: string;
  /** Keys the circuit breaker and rate limit. Default: the plugin id. */
  readonly connectionId?: string;
  readonly limits?: SandboxLimits;
  /**
   * Capabilities bound to this invocation's tenant and installation (its kv), used instead of
   * the host's. They stay in the calling process: the pool never sends them to a worker.
   */
  readonly boundCapabilities?: Pick<HostCapabilities, 'kv'>;
  /**
   * The caller's cancellation (e.g. the engine step's signal, aborted when the step times out or
   * its run ends). Once aborted, the invocation rejects at once with `CANCELLED`: an invocation
   * not yet started never runs, a running guest is interrupted and its host calls (HTTP egress
   * included) are aborted. Never sent to a pool worker: the pool relays it.
   */
  readonly signal?: AbortSignal;
}

export interface InvocationLog {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields?: unknown;
}

export interface InvokeResult {
  readonly output: unknown;
  readonly logs: InvocationLog[];
  readonly hostCalls: number;
  readonly durationMs: number;
}

export interface Sandbox {
  /** Runs one action in a fresh QuickJS runtime with `capabilities` as its only way out. */
  invokeAction(
    request: InvokeRequest & { readonly capabilities: HostCapabilities },
  ): Promise<InvokeResult>;
  /** Same, with host calls sent to `dispatch` (the worker pool forwards them to its parent). */
  invokeWithDispatch(request: InvokeRequest, dispatch: HostDispatch): Promise<InvokeResult>;
  /** How many times the WASM module was replaced after a host-level crash. */
  readonly recycleCount: number;
}

const MAX_STACK = 256 * 1024;

function resolveLimits(limits: SandboxLimits = {}) {
  const resolved = {
    timeoutMs: limits.timeoutMs ?? 5000,
    memoryBytes: limits.memoryBytes ?? 32 * 1024 * 1024,
    stackBytes: limits.stackBytes ?? MAX_STACK,
    maxHostCalls: limits.maxHostCalls ?? 100,
    maxLogEntries: limits.maxLogEntries ?? 100,
  };
  if (resolved.stackBytes <= 0 || resolved.stackBytes > MAX_STACK) {
    throw new PluginHostError('INVALID_LIMITS', `stackBytes must be between 1 and ${MAX_STACK}.`, {
      ...resolved,
    });
  }
  if (resolved.timeoutMs <= 0 || resolved.memoryBytes <= 0) {
    throw new PluginHostError('INVALID_LIMITS', 'timeoutMs and memoryBytes must be positive.', {
      ...resolved,
    });
  }
  return resolved;
}

function safely(fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}

/** The installation's grant for one invocation of a verified plugin. */
export function grantOf(request: InvokeRequest): InvocationGrant {
  return {
    manifest: request.plugin.manifest,
    actionId: request.actionId,
    grantedScopes: request.grantedScopes,
    idempotencyKey: request.idempotencyKey,
    ...(request.secrets === undefined ? {} : { secrets: request.secrets }),
    ...(request.installationId === undefined ? {} : { installationId: request.installationId }),
    ...(request.connectionId === undefined ? {} : { connectionId: request.connectionId }),
  };
}

const refuseAll: HostDispatch = async () => {
  throw new PluginHostError('PLUGIN_UNVERIFIED', 'Unverified plugins get no host calls.');
};

export interface SandboxOptions {
  readonly engine?: QuickJSEngine;
  readonly validator?: SchemaValidator;
  /**
   * Called each time QuickJS polls for an interrupt, before the invocation's signal is checked.
   * A guest in a busy loop holds the event loop, so no abort event can arrive meanwhile: the pool
   * worker uses this to abort signals whose cancellation came in through another thread.
   */
  readonly pollCancellations?: () => void;
}

export function createSandbox(options: SandboxOptions = {}): Sandbox {
  const engine = options.engine ?? new QuickJSEngine();
  const validator = options.validator ?? new SchemaValidator();
  const pollCancellations = options.pollCancellations;

  async function runGuest(request: InvokeRequest, dispatch: HostDispatch) {
    const limits = resolveLimits(request.limits);
    const { manifest, code } = request.plugin;
    const action = manifest.actions[request.actionId]!;
    const module = await engine.module();
    const { signal } = request;
    if (signal?.aborted) throw cancelledError();
    const started = Date.now();
    const deadline = started + limits.timeoutMs;
    const logs: InvocationLog[] = [];
    const hostErrors = new Map<number, PluginHostError>();
    const pending = new Set<QuickJSDeferredPromise>();
    const abort = new AbortController();
    let hostCalls = 0;
    let rt: QuickJSRuntime | undefined;
    let vm: QuickJSContext | undefined;
    const handles: QuickJSHandle[] = [];
    let crashed = false;
    const heapAtStart = QuickJSEngine.heapBytes(module);
    let heapExceeded = false;
    const memoryError = () =>
      new PluginHostError(
        'MEMORY_LIMIT',
        `The action exceeded its ${limits.memoryBytes}-byte memory limit and was stopped.`,
        {
          memoryBytes: limits.memoryBytes,
        },
      );

    let settleOutcome!: (
      outcome: { ok: true; json: string } | { ok: false; error: PluginHostError },
    ) => void;
    const outcome = new Promise<{ ok: true; json: string } | { ok: false; error: PluginHostError }>(
      (resolve) => {
        settleOutcome = resolve;
      },
    );
    let done = false;
    const finish = (result: { ok: true; json: string } | { ok: false; error: PluginHostError }) => {
      if (done) return;
      done = true;
      settleOutcome(result);
    };
    const fail = (error: PluginHostError) =>
      finish({
        ok: false,
        error: heapExceeded && error.code !== 'MEMORY_LIMIT' ? memoryError() : error,
      });

    const pump = () => {
      if (done || !rt || !vm) return;
      try {
        const jobs = rt.executePendingJobs();
        if (jobs.error) {
          const dumped = safeDump(vm, jobs.error);
          safely(() => jobs.error.dispose());
          fail(guestFailure(dumped, limits.timeoutMs, limits.memoryBytes));
        }
      } catch (error) {
        crashed ||= isHostLevelCrash(error);
        fail(
          new PluginHostError(
            'SANDBOX_CRASHED',
            'The sandbox engine failed; it was replaced.',
            {},
            { cause: error },
          ),
        );
      }
    };

    const timer = setTimeout(() => fail(timeoutError(limits.timeoutMs)), limits.timeoutMs);
    // Cancellation wins over whatever the interrupted guest reports afterwards (it reads as TIMEOUT).
    let cancelled = false;
    const onCancel = () => {
      if (done) return;
      cancelled = true;
      finish({ ok: false, error: cancelledError() });
    };
    signal?.addEventListener('abort', onCancel, { once: true });

    try {
      rt = module.newRuntime();
      rt.setMemoryLimit(limits.memoryBytes);
      rt.setMaxStackSize(limits.stackBytes);
      // Polled by QuickJS every few thousand operations: the deadline, and heap growth that
      // setMemoryLimit misses (many allocations that are each under the limit).
      rt.setInterruptHandler(() => {
        pollCancellations?.();
        if (signal?.aborted) return true;
        if (Date.now() > deadline) return true;
        if (QuickJSEngine.heapBytes(module) - heapAtStart > limits.memoryBytes) {
          heapExceeded = true;
          return true;
        }
        return false;
      });
      vm = rt.newContext();
      const ctx = vm;

      const callFn = ctx.newFunction('__rosterCall', (methodHandle, argsHandle) => {
        const method = ctx.getString(methodHandle);
        const argsJson = ctx.getString(argsHandle);
        if (method === 'log') {
          if (logs.length < limits.maxLogEntries) logs.push(parseLog(argsJson));
          return;
        }
        const deferred = ctx.newPromise();
        pending.add(deferred);
        const reply = (payload: string) => {
          if (done || !deferred.alive) return;
          const value = ctx.newString(payload);
          deferred.resolve(value);
          value.dispose();
          pending.delete(deferred);
          pump();
        };
        const refuse = (error: PluginHostError) => {
          const ref = hostErrors.size + 1;
          hostErrors.set(ref, error);
          reply(JSON.stringify({ ok: false, error: { ...error.toJSON(), ref } }));
        };
        hostCalls += 1;
        if (hostCalls > limits.maxHostCalls) {
          refuse(
            new PluginHostError(
              'FORBIDDEN',
              `More than ${limits.maxHostCalls} host calls in one invocation.`,
            ),
          );
        } else {
          let args: unknown;
          try {
            args = JSON.parse(argsJson);
          } catch {
            args = null;
          }
          dispatch(method, args, abort.signal).then(
            (value) => reply(JSON.stringify({ ok: true, value: value ?? null })),
            (error: unknown) =>
              refuse(
                error instanceof PluginHostError
                  ? error
                  : new PluginHostError(
                      'HTTP_FAILED',
                      `Host call ${method} failed.`,
                      {},
                      { cause: error },
                    ),
              ),
          );
        }
        return deferred.handle;
      });
      handles.push(callFn);
      ctx.setProp(ctx.global, '__rosterCall', callFn);

      const settleFn = ctx.newFunction('__rosterSettle', (okHandle, jsonHandle) => {
        const ok = ctx.dump(okHandle) === true;
        const json = ctx.getString(jsonHandle);
        if (ok) finish({ ok: true, json });
        else if (Date.now() >= deadline) fail(timeoutError(limits.timeoutMs));
        else fail(actionFailure(json, hostErrors, request.actionId, limits));
      });
      handles.push(settleFn);
      ctx.setProp(ctx.global, '__rosterSettle', settleFn);

      const invokeFn = unwrapOrFail(
        ctx,
        ctx.evalCode(GUEST_PRELUDE, 'roster-prelude.js'),
        limits,
        'BUNDLE_INVALID',
      );
      handles.push(invokeFn);
      const plugin = unwrapOrFail(
        ctx,
        ctx.evalCode(`${code}\n;globalThis.__rosterPlugin`, 'plugin.js'),
        limits,
        'BUNDLE_INVALID',
      );
      handles.push(plugin);
      const actionIdHandle = ctx.newString(request.actionId);
      handles.push(actionIdHandle);
      const payload = ctx.newString(
        JSON.stringify({
          input: request.input,
          secrets: request.secrets ?? {},
          idempotencyKey: request.idempotencyKey,
          uses: action.uses.filter((name) => manifest.capabilities[name] !== undefined),
        }),
      );
      handles.push(payload);
      const invoked = ctx.callFunction(invokeFn, ctx.undefined, plugin, actionIdHandle, payload);
      handles.push(unwrapOrFail(ctx, invoked, limits, 'ACTION_FAILED'));
      pump();
      const result = await outcome;
      if (!result.ok) throw result.error;
      return { json: result.json, logs, hostCalls, durationMs: Date.now() - started };
    } catch (error) {
      if (cancelled) throw cancelledError();
      if (error instanceof PluginHostError) throw heapExceeded ? memoryError() : error;
      crashed ||= isHostLevelCrash(error);
      throw new PluginHostError(
        'SANDBOX_CRASHED',
        'The sandbox engine failed; it was replaced.',
        {},
        { cause: error },
      );
    } finally {
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onCancel);
      // Abort host calls still in flight (aborting costs a DOMException: skip when none are).
      if (pending.size > 0) abort.abort();
      // Dispose defensively: a leaked handle makes rt.dispose() abort inside WASM.
      for (const deferred of pending) safely(() => deferred.dispose());
      for (const handle of handles.reverse()) safely(() => handle.alive && handle.dispose());
      const clean = safely(() => vm?.dispose()) && safely(() => rt?.dispose());
      if (crashed || !clean || QuickJSEngine.heapBytes(module) > RECYCLE_HEAP_BYTES)
        engine.recycle();
    }
  }

  async function invokeWithDispatch(
    request: InvokeRequest,
    dispatch: HostDispatch,
  ): Promise<InvokeResult> {
    if (!VerifiedPlugin.is(request.plugin)) {
      throw new PluginHostError(
        'PLUGIN_UNVERIFIED',
        'Only a VerifiedPlugin from verifyPackage can run: verify the signed package first.',
      );
    }
    if (request.signal?.aborted) throw cancelledError();
    const { manifest } = request.plugin;
    const action = Object.hasOwn(manifest.actions, request.actionId)
      ? manifest.actions[request.actionId]
      : undefined;
    if (!action) {
      throw new PluginHostError(
        'UNKNOWN_ACTION',
        `Plugin ${manifest.id} has no action "${request.actionId}"; it has: ${Object.keys(manifest.actions).join(', ')}.`,
      );
    }
    const input = validator.validate(action.input, request.input);
    if (!input.valid) {
      throw new PluginHostError(
        'INPUT_INVALID',
        `Input for "${request.actionId}" does not match its schema: ${input.issues.join('; ')}.`,
        {
          issues: input.issues,
        },
      );
    }
    const run = await runGuest(request, dispatch);
    const output: unknown = JSON.parse(run.json);
    const checked = validator.validate(action.output, output);
    if (!checked.valid) {
      throw new PluginHostError(
        'OUTPUT_INVALID',
        `Plugin ${manifest.id} returned output for "${request.actionId}" that does not match its schema: ${checked.issues.join('; ')}. Fix the plugin.`,
        { issues: checked.issues },
      );
    }
    return { output, logs: run.logs, hostCalls: run.hostCalls, durationMs: run.durationMs };
  }

  return {
    invokeWithDispatch,
    invokeAction: (request) => {
      if (!VerifiedPlugin.is(request.plugin)) return invokeWithDispatch(request, refuseAll);
      return invokeWithDispatch(
        request,
        createHostDispatch(
          { ...request.capabilities, ...request.boundCapabilities },
          grantOf(request),
        ),
      );
    },
    get recycleCount() {
      return engine.recycleCount;
    },
  };
}
