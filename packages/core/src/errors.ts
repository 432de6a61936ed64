/**
 * The stable error codes of the public API (GraphQL `extensions.code`). Domain packages keep
 * their own finer codes and say which of these each one surfaces as.
 */
export const API_ERROR_CODES = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'RATE_LIMITED',
  'QUOTA_EXCEEDED',
  'INTERNAL',
] as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export function isApiErrorCode(code: unknown): code is ApiErrorCode {
  return typeof code === 'string' && (API_ERROR_CODES as readonly string[]).includes(code);
}

export interface RosterErrorOptions {
  cause?: unknown;
  /** The API code this error surfaces as. Default: `code` when it is an API code, else INTERNAL. */
  apiCode?: ApiErrorCode;
}

/**
 * Base of every typed error in Roster. Subclass it per package with that package's code union:
 * `class AuditError extends RosterError<AuditErrorCode> {}`. Messages say how to fix the problem.
 */
export class RosterError<C extends string = string> extends Error {
  readonly apiCode: ApiErrorCode;

  constructor(
    readonly code: C,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: RosterErrorOptions,
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.apiCode = options?.apiCode ?? (isApiErrorCode(code) ? code : 'INTERNAL');
  }
}

/** Codes of errors raised by `@roster/core` itself (expressions and planning). */
export type CoreErrorCode =
  /** An expression does not parse. */
  | 'EXPRESSION_SYNTAX'
  /** An expression failed while evaluating (type error, bad function argument, ...). */
  | 'EXPRESSION_RUNTIME'
  /** An expression ran past its time budget. */
  | 'EXPRESSION_TIMEOUT'
  /** An expression recursed deeper than allowed. */
  | 'EXPRESSION_TOO_DEEP'
  /** An expression built a sequence, or produced a result, larger than allowed. */
  | 'EXPRESSION_TOO_LARGE'
  /** The data given to an expression is larger than allowed. */
  | 'EXPRESSION_INPUT_TOO_LARGE'
  /** A planning helper was called with a step id the definition does not have. */
  | 'UNKNOWN_STEP'
  /** A planning helper was called with an outcome that does not fit the step. */
  | 'INVALID_OUTCOME'
  /** A duration string is not of the form `1h30m`. */
  | 'INVALID_DURATION';

export class CoreError extends RosterError<CoreErrorCode> {}
