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
  | 'DEPLOYMENTS_INVALID';

export class InferenceError extends Error {
  override readonly name = 'InferenceError';

  constructor(
    readonly code: InferenceErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
