/** Stable codes for every error the runner throws; callers switch on `code`, never on text. */
export type RunnerErrorCode =
  | 'CONFIG_INVALID'
  | 'PROVIDER_UNAVAILABLE'
  | 'SESSION_FAILED'
  | 'WORKER_CRASHED'
  | 'POOL_CLOSED'
  | 'BATCHER_CLOSED'
  | 'BATCH_FAILED'
  | 'INPUT_INVALID'
  | 'UNAUTHORIZED'
  | 'SERVER_ERROR'
  | 'REQUEST_FAILED'
  | 'PROTOCOL_ERROR'
  | 'MODEL_HASH_MISMATCH';

export class RunnerError extends Error {
  override readonly name = 'RunnerError';

  constructor(
    readonly code: RunnerErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
