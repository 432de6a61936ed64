export type DbErrorCode =
  | 'PG_PORT_IN_USE'
  | 'PG_DATA_DIR_INVALID'
  | 'PG_START_FAILED'
  | 'PG_UNREACHABLE'
  | 'MIGRATION_FAILED'
  | 'APP_ROLE_PASSWORD_MISSING'
  | 'TENANT_CONTEXT_INVALID';

/** A database failure with a stable code and a message that says what to change. */
export class DbError extends Error {
  constructor(
    readonly code: DbErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DbError';
  }
}
