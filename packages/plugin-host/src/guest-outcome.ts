import type { LogLevel } from '@roster/plugin-sdk';
import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten-core';
import { PluginHostError, type SerializedPluginHostError } from './errors.js';
import type { InvocationLog } from './sandbox.js';

// Turns what comes out of QuickJS (thrown values, settle payloads, log lines) into typed
// host values. Nothing here trusts the guest: codes come from the host's own records.

const LEVELS = new Set<LogLevel>(['debug', 'info', 'warn', 'error']);

export function timeoutError(timeoutMs: number): PluginHostError {
  return new PluginHostError(
    'TIMEOUT',
    `The action ran past its ${timeoutMs} ms budget and was stopped.`,
    {
      timeoutMs,
    },
  );
}

/** Maps an error thrown inside QuickJS to a typed error. */
export function guestFailure(
  dumped: unknown,
  timeoutMs: number,
  memoryBytes: number,
): PluginHostError {
  const e = (
    typeof dumped === 'object' && dumped !== null ? dumped : { message: String(dumped) }
  ) as {
    name?: string;
    message?: string;
  };
  const text = `${e.name ?? ''}: ${e.message ?? ''}`;
  if (/interrupted/i.test(text)) return timeoutError(timeoutMs);
  if (
    /out of memory|memory limit|allocation|invalid array buffer length|invalid array length|string too long/i.test(
      text,
    )
  ) {
    return new PluginHostError(
      'MEMORY_LIMIT',
      `The action exceeded its ${memoryBytes}-byte memory limit and was stopped.`,
      { memoryBytes, guest: text },
    );
  }
  if (/stack overflow|call stack/i.test(text)) {
    return new PluginHostError(
      'STACK_OVERFLOW',
      'The action recursed too deeply and was stopped.',
      { guest: text },
    );
  }
  return new PluginHostError('ACTION_FAILED', `The action threw ${text}`, {
    name: e.name,
    message: e.message,
  });
}

/** A crash of the engine itself, not of guest code: the WASM module may be corrupt. */
export function isHostLevelCrash(error: unknown): boolean {
  return error instanceof RangeError || (error instanceof Error && error.name === 'RuntimeError');
}

export function safeDump(vm: QuickJSContext, handle: QuickJSHandle): unknown {
  try {
    return vm.dump(handle);
  } catch {
    return { name: 'Error', message: 'out of memory (error could not be read)' };
  }
}

export function unwrapOrFail(
  vm: QuickJSContext,
  result: ReturnType<QuickJSContext['evalCode']>,
  limits: { timeoutMs: number; memoryBytes: number },
  code: 'BUNDLE_INVALID' | 'ACTION_FAILED',
): QuickJSHandle {
  if (!result.error) return result.value;
  const dumped = safeDump(vm, result.error);
  try {
    result.error.dispose();
  } catch {
    // Already gone with its runtime: nothing to release.
  }
  const failure = guestFailure(dumped, limits.timeoutMs, limits.memoryBytes);
  if (failure.code !== 'ACTION_FAILED' || code === 'ACTION_FAILED') throw failure;
  throw new PluginHostError(
    'BUNDLE_INVALID',
    `The plugin bundle failed to load: ${failure.message}`,
    failure.details,
  );
}

export function parseLog(json: string): InvocationLog {
  try {
    const entry = JSON.parse(json) as { level?: string; message?: string; fields?: unknown };
    const level = LEVELS.has(entry.level as LogLevel) ? (entry.level as LogLevel) : 'info';
    const message = String(entry.message ?? '').slice(0, 2000);
    return entry.fields === undefined
      ? { level, message }
      : { level, message, fields: entry.fields };
  } catch {
    return { level: 'info', message: json.slice(0, 2000) };
  }
}

export function actionFailure(
  json: string,
  hostErrors: Map<number, PluginHostError>,
  actionId: string,
  limits: { timeoutMs: number; memoryBytes: number },
): PluginHostError {
  let parsed: {
    kind?: string;
    error?: { name?: string; message?: string; code?: string; hostRef?: number };
  };
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = {};
  }
  if (parsed.kind === 'unknown-action') {
    return new PluginHostError(
      'UNKNOWN_ACTION',
      `The bundle does not register action "${actionId}": rebuild it with bundlePlugin.`,
    );
  }
  if (parsed.kind === 'output') {
    return new PluginHostError(
      'OUTPUT_INVALID',
      `The output of "${actionId}" is not JSON data: ${parsed.error?.message}.`,
    );
  }
  // An uncaught host refusal keeps its own code (FORBIDDEN, EGRESS_DENIED...); the ref proves the
  // host raised it in this invocation, so plugin code cannot forge host codes.
  const ref = parsed.error?.hostRef;
  const hostError = ref === undefined ? undefined : hostErrors.get(ref);
  if (hostError && hostError.message === parsed.error?.message) return hostError;
  // Engine limits surface as InternalError/RangeError, which async code turns into rejections.
  if (parsed.error?.name === 'InternalError' || parsed.error?.name === 'RangeError') {
    const limit = guestFailure(parsed.error, limits.timeoutMs, limits.memoryBytes);
    if (limit.code !== 'ACTION_FAILED') return limit;
  }
  const serialized: SerializedPluginHostError = {
    code: 'ACTION_FAILED',
    message: `Action "${actionId}" threw ${parsed.error?.name ?? 'Error'}: ${parsed.error?.message ?? 'unknown error'}`,
    details: {
      name: parsed.error?.name,
      message: parsed.error?.message,
      pluginCode: parsed.error?.code,
    },
  };
  return PluginHostError.fromJSON(serialized);
}
