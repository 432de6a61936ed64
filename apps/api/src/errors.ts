import { type ApiErrorCode, RosterError } from '@roster/core';

/** An error the API shows its caller as is: `code` is the GraphQL `extensions.code`. */
export class ApiError extends RosterError<ApiErrorCode> {}

export const notFound = (what: string) =>
  new ApiError('NOT_FOUND', `${what} was not found (or you may not see it). Check the id.`);

/** Bad input, naming the field path (`input.name`) so forms can show it where it belongs. */
export const badInput = (field: string, message: string) =>
  new ApiError('BAD_USER_INPUT', message, { field });

export const conflict = (message: string, details?: Record<string, unknown>) =>
  new ApiError('CONFLICT', message, details);

export const unauthenticated = (
  message = 'Sign in, or send an API key as `Authorization: Bearer rk_…`.',
) => new ApiError('UNAUTHENTICATED', message);

export const rateLimited = (retryAfterSeconds: number) =>
  new ApiError('RATE_LIMITED', `Too many requests. Try again in ${retryAfterSeconds} s.`, {
    retryAfterSeconds,
  });
