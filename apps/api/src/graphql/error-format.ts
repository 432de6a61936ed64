import { unwrapResolverError } from '@apollo/server/errors';
import { isApiErrorCode } from '@roster/core';
import { DbError } from '@roster/db';
import type { Logger } from '@roster/telemetry';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

/** Fields of an error's `details` that are safe and useful to show a caller. */
const PUBLIC_DETAILS = [
  'field',
  'problems',
  'retryAfterSeconds',
  'action',
  'subject',
  'reason',
  // Consent: the capabilities an install or upgrade still has to grant.
  'missing',
  'newCapabilities',
];

/**
 * Turns every error into one with a stable `extensions.code`. Our typed errors keep their message
 * and public details; anything unexpected becomes INTERNAL and, in production, says only
 * "Internal error" plus the request id (the log line has the rest).
 */
export function createErrorFormatter(options: { production: boolean; logger: Logger }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const code = apiCodeOf(original);
    if (code) {
      const details = (original as { details?: Record<string, unknown> }).details ?? {};
      const publicDetails = Object.fromEntries(
        Object.entries(details).filter(([k]) => PUBLIC_DETAILS.includes(k)),
      );
      return {
        message: (original as Error).message,
        ...(formatted.locations ? { locations: formatted.locations } : {}),
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { ...publicDetails, code },
      };
    }
    const existing = formatted.extensions?.code;
    if (typeof existing === 'string' && existing !== 'INTERNAL_SERVER_ERROR') {
      // Apollo's own request errors (parse, validation, bad variables, armor limits).
      return { ...formatted, extensions: { code: existing } };
    }
    options.logger.error(
      { err: original, path: formatted.path },
      'unexpected error in a GraphQL request',
    );
    return {
      message: options.production
        ? 'Internal error. Quote the request id when you report it.'
        : formatted.message,
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'INTERNAL' },
    };
  };
}

function apiCodeOf(error: unknown): string | null {
  if (error instanceof DbError) return error.code === 'TENANT_CONTEXT_INVALID' ? 'NOT_FOUND' : null;
  if (error instanceof GraphQLError) return null;
  if (error && typeof error === 'object') {
    const apiCode = (error as { apiCode?: unknown }).apiCode;
    if (isApiErrorCode(apiCode) && apiCode !== 'INTERNAL') return apiCode;
    const code = (error as { code?: unknown }).code;
    if (isApiErrorCode(code) && code !== 'INTERNAL') return code;
  }
  return null;
}
