import { describe, expect, it } from 'vitest';
import { CoreError, isApiErrorCode, RosterError } from './errors.js';

type AuditErrorCode = 'CHAIN_BROKEN' | 'NOT_FOUND';
class AuditError extends RosterError<AuditErrorCode> {}

describe('RosterError', () => {
  it('carries code, details and cause, and names the subclass', () => {
    const cause = new Error('disk');
    const error = new AuditError('CHAIN_BROKEN', 'Re-run verify', { at: 3 }, { cause });
    expect(error).toBeInstanceOf(RosterError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'AuditError',
      code: 'CHAIN_BROKEN',
      details: { at: 3 },
      cause,
    });
  });

  it('surfaces as INTERNAL unless the code is an API code or apiCode is given', () => {
    expect(new AuditError('CHAIN_BROKEN', 'x').apiCode).toBe('INTERNAL');
    expect(new AuditError('NOT_FOUND', 'x').apiCode).toBe('NOT_FOUND');
    expect(
      new CoreError('UNKNOWN_STEP', 'x', undefined, { apiCode: 'BAD_USER_INPUT' }).apiCode,
    ).toBe('BAD_USER_INPUT');
  });

  it('recognises API codes', () => {
    expect(isApiErrorCode('RATE_LIMITED')).toBe(true);
    expect(isApiErrorCode('TIMEOUT')).toBe(false);
  });
});
