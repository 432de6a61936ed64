import { type ApiErrorCode, RosterError } from '@roster/core';

export type EngineErrorCode =
  /** The run, workflow, version or step does not exist in this tenant. */
  | 'NOT_FOUND'
  /** An idempotency key was reused with another input, or the run is not in a state for this. */
  | 'CONFLICT'
  /** The caller's input is invalid (too many runs, bad step id, ...). */
  | 'BAD_USER_INPUT'
  /** A stored workflow version does not validate any more. */
  | 'DEFINITION_INVALID'
  /** A step type the engine cannot run yet. */
  | 'STEP_TYPE_UNSUPPORTED'
  /** No executor is registered for a connector or decision step. */
  | 'EXECUTOR_MISSING'
  /** Installing graphile-worker's schema failed. */
  | 'WORKER_SCHEMA_FAILED'
  /** An inbound webhook's Standard Webhooks signature or timestamp does not verify. */
  | 'SIGNATURE_INVALID';

const API_CODES: Partial<Record<EngineErrorCode, ApiErrorCode>> = {
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  SIGNATURE_INVALID: 'UNAUTHENTICATED',
};

/** A failure of an engine service, with a stable code and a message that says what to change. */
export class EngineError extends RosterError<EngineErrorCode> {
  constructor(
    code: EngineErrorCode,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(code, message, details, { ...options, apiCode: API_CODES[code] ?? 'INTERNAL' });
  }
}

/**
 * What an executor throws to fail a step attempt. `code` is an UPPER_SNAKE error code that the
 * step's retry policy (`retryable`, `fatal`) and `catch` clauses match; `fatal: true` stops
 * retries regardless of the policy.
 */
export class StepFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly options: { fatal?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StepFailure';
  }
}

/**
 * The reason a call is aborted when its worker stops before the call returns. It is not the
 * step's failure: the step runner rethrows it, graphile-worker fails the job, and the job runs
 * again on a worker that is up, with the same attempt and idempotency key, as after a crash.
 */
export class WorkerStopping extends Error {
  constructor(graceMs: number) {
    super(
      `The worker stopped while this call was in flight (still running ${graceMs} ms after the stop); the step runs again on another worker.`,
    );
    this.name = 'WorkerStopping';
  }
}
