import { type ApiErrorCode, RosterError } from '@roster/core';

/** Stable codes for every error this package throws; callers switch on `code`, never on text. */
export type InferenceErrorCode =
  | 'FEATURIZER_SPEC_INVALID'
  | 'FEATURES_INVALID'
  | 'MODEL_INVALID'
  | 'INVALID_MODEL'
  | 'MODEL_SIGNATURE_MISMATCH'
  | 'ONNX_METADATA_MISSING'
  | 'SCORES_INVALID'
  | 'THRESHOLDS_INVALID'
  | 'DEPLOYMENTS_INVALID'
  /** A model, version, pool, deployment or request does not exist in this tenant. */
  | 'NOT_FOUND'
  /** A name is taken, or a deployment is not in a state that allows the change. */
  | 'CONFLICT'
  /** Registry input (name, labels, metrics, size) is not acceptable. */
  | 'INPUT_INVALID'
  /** No runner answered before the caller's deadline. */
  | 'DEADLINE_EXCEEDED'
  /** The runners could not score the input (the item failed on every attempt). */
  | 'INFERENCE_FAILED'
  /** A pool token or runner id is not known. */
  | 'UNAUTHORIZED';

const API_CODES: Partial<Record<InferenceErrorCode, ApiErrorCode>> = {
  FEATURIZER_SPEC_INVALID: 'BAD_USER_INPUT',
  FEATURES_INVALID: 'BAD_USER_INPUT',
  MODEL_INVALID: 'BAD_USER_INPUT',
  INVALID_MODEL: 'BAD_USER_INPUT',
  MODEL_SIGNATURE_MISMATCH: 'BAD_USER_INPUT',
  THRESHOLDS_INVALID: 'BAD_USER_INPUT',
  DEPLOYMENTS_INVALID: 'BAD_USER_INPUT',
  INPUT_INVALID: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  // The API has no timeout code: a missed deadline is a state conflict the caller may retry;
  // `details.reason` says DEADLINE_EXCEEDED.
  DEADLINE_EXCEEDED: 'CONFLICT',
  INFERENCE_FAILED: 'CONFLICT',
  UNAUTHORIZED: 'UNAUTHENTICATED',
};

export class InferenceError extends RosterError<InferenceErrorCode> {
  constructor(
    code: InferenceErrorCode,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    const apiCode = API_CODES[code];
    super(code, message, details, { ...options, ...(apiCode ? { apiCode } : {}) });
  }
}
