/** Stable codes shared by the SDK harness and the plugin host, so tests and production agree. */
export type PluginErrorCode =
  | 'INVALID_DEFINITION'
  | 'UNKNOWN_ACTION'
  | 'INPUT_INVALID'
  | 'OUTPUT_INVALID'
  | 'FORBIDDEN'
  | 'EGRESS_DENIED'
  | 'HTTP_FAILED'
  | 'TIMEOUT'
  | 'ACTION_FAILED';

export class PluginSdkError extends Error {
  override readonly name = 'PluginSdkError';
  constructor(
    readonly code: PluginErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
