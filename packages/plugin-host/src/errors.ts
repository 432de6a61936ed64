export type PluginHostErrorCode =
  /** A host call the installation has not granted, or the plugin did not declare. */
  | 'FORBIDDEN'
  /** http.fetch to an undeclared host or to an address the egress policy blocks. */
  | 'EGRESS_DENIED'
  | 'HTTP_FAILED'
  | 'HTTP_TIMEOUT'
  | 'RESPONSE_TOO_LARGE'
  /** The connection's circuit breaker is open after repeated upstream failures. */
  | 'CIRCUIT_OPEN'
  | 'RATE_LIMITED'
  | 'INPUT_INVALID'
  | 'OUTPUT_INVALID'
  | 'UNKNOWN_ACTION'
  /** The action threw (or rejected) inside the sandbox. */
  | 'ACTION_FAILED'
  /** The invocation ran past its time budget. */
  | 'TIMEOUT'
  /**
   * The caller aborted the invocation's signal (its step timed out or its run ended): the guest
   * and its host calls were stopped. The plugin host never retries it itself.
   */
  | 'CANCELLED'
  | 'MEMORY_LIMIT'
  | 'STACK_OVERFLOW'
  /** The bundle failed to evaluate or does not register a connector. */
  | 'BUNDLE_INVALID'
  | 'BUNDLE_FAILED'
  /** The WASM engine itself failed; the module was replaced. */
  | 'SANDBOX_CRASHED'
  /** The worker process died while running the invocation; the pool replaced it. */
  | 'WORKER_CRASHED'
  | 'POOL_CLOSED'
  | 'INVALID_LIMITS'
  /** The package file is not a Roster plugin package (or its manifest is malformed). */
  | 'PACKAGE_MALFORMED'
  /** The code or manifest does not hash to the package's sha-512 integrity: it was altered. */
  | 'INTEGRITY_MISMATCH'
  /** The ed25519 signature does not verify with the publisher's trusted key. */
  | 'SIGNATURE_INVALID'
  /** No trusted key matches the package's publisher and key id. */
  | 'UNKNOWN_PUBLISHER'
  /** Code was handed to the sandbox without going through verifyPackage. */
  | 'PLUGIN_UNVERIFIED'
  | 'INVALID_KEY'
  | 'SMTP_FAILED'
  | 'SQL_FAILED'
  /** A query returned more rows than the host's cap. */
  | 'ROW_LIMIT'
  /** A master key is missing, malformed, or not the one a data key was wrapped with. */
  | 'MASTER_KEY_INVALID'
  /** Ciphertext failed authentication: wrong key, wrong tenant/connection (AAD), or altered. */
  | 'DECRYPT_FAILED'
  /** The tenant has no data key of the version a connection was sealed with. */
  | 'DATA_KEY_MISSING'
  /** A kv key is empty, too long, or not a string. */
  | 'KV_KEY_INVALID'
  /** A kv value is not JSON, or larger than the host's limit. */
  | 'KV_VALUE_INVALID'
  /** The installation already holds the most keys the host allows. */
  | 'KV_QUOTA_EXCEEDED';

export interface SerializedPluginHostError {
  readonly code: PluginHostErrorCode;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export class PluginHostError extends Error {
  override readonly name = 'PluginHostError';
  constructor(
    readonly code: PluginHostErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toJSON(): SerializedPluginHostError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  /** Rebuilds an error that crossed a process boundary (IPC) or the sandbox boundary. */
  static fromJSON(data: SerializedPluginHostError): PluginHostError {
    return new PluginHostError(data.code, data.message, data.details);
  }
}

/** The error an invocation rejects with once its caller's signal aborts. */
export function cancelledError(): PluginHostError {
  return new PluginHostError(
    'CANCELLED',
    'The caller cancelled the invocation (its step timed out or its run ended); the action was stopped and is not retried by the plugin host.',
  );
}

export function isPluginHostError(error: unknown): error is PluginHostError {
  return error instanceof PluginHostError;
}
