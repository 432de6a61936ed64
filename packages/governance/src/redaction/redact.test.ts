import { describe, expect, it } from 'vitest';
import { redactText } from './redact-text.js';
import { createRedactor, type JsonValue, redactValue } from './redact-value.js';
import { compileMaskPaths, parseRedactionRules } from './rules.js';

describe('redactText', () => {
  it('replaces each finding and keeps the text around it', () => {
    expect(redactText('Mail jane@example.com or call +44 20 7946 0958.')).toBe(
      'Mail [redacted:email] or call [redacted:phone].',
    );
  });

  it('leaves text without findings unchanged, near misses included', () => {
    const text = 'Order 4111 1111 1111 1112 shipped on 2024-01-15 (v10.0.19045.2965).';
    expect(redactText(text)).toBe(text);
  });

  it('takes a replacement that can keep part of the original', () => {
    const lastFour = (kind: string, original: string) =>
      kind === 'paymentCard' ? `card ending ${original.replace(/\D/g, '').slice(-4)}` : `<${kind}>`;
    expect(
      redactText('pay 4111 1111 1111 1111 or mail a@example.com', { replacement: lastFour }),
    ).toBe('pay card ending 1111 or mail <email>');
  });

  it('redacts only the kinds asked for', () => {
    expect(redactText('jane@example.com, SSN 123-45-6789', { kinds: ['usSsn'] })).toBe(
      'jane@example.com, SSN [redacted:usSsn]',
    );
  });
});

describe('redactValue', () => {
  const input: JsonValue = {
    customer: {
      name: 'Jane Doe',
      email: 'jane@example.com',
      notes: ['prefers phone: +1 415-555-2671', 'IBAN NL91ABNA0417164300'],
      ssn: 'none on file',
    },
    payment: { card: 4111111111111111, amount: 12.5, approved: true, ref: null },
    'jane@example.com': 'keys are kept',
  };

  it('redacts strings anywhere in the value and keeps the keys and other values', () => {
    expect(redactValue(input)).toEqual({
      customer: {
        name: 'Jane Doe',
        email: '[redacted:email]',
        notes: ['prefers phone: [redacted:phone]', 'IBAN [redacted:iban]'],
        ssn: 'none on file',
      },
      payment: { card: '[redacted:paymentCard]', amount: 12.5, approved: true, ref: null },
      'jane@example.com': 'keys are kept',
    });
  });

  it('masks fields by path whatever they hold', () => {
    const redact = createRedactor({
      kinds: ['email'],
      maskPaths: ['customer.ssn', 'customer.notes.1', '**.approved'],
      mask: '***',
      replacement: '<{kind}>',
    });
    expect(redact(input)).toEqual({
      customer: {
        name: 'Jane Doe',
        email: '<email>',
        notes: ['prefers phone: +1 415-555-2671', '***'],
        ssn: '***',
      },
      payment: { card: 4111111111111111, amount: 12.5, approved: '***', ref: null },
      'jane@example.com': 'keys are kept',
    });
  });

  it('does not change its input', () => {
    const copy = structuredClone(input);
    redactValue(input, { maskPaths: ['customer'] });
    expect(input).toEqual(copy);
  });
});

describe('mask paths', () => {
  it.each([
    ['a.b', ['a', 'b'], true],
    ['a.b', ['a', 'b', 'c'], false],
    ['a.*.c', ['a', '0', 'c'], true],
    ['a.*.c', ['a', 'c'], false],
    ['**.token', ['token'], true],
    ['**.token', ['x', 'y', 'token'], true],
    ['a.**', ['a', 'b', 'c'], true],
    ['a.**.c', ['a', 'c'], true],
    ['a.**.c', ['a', 'b', 'd'], false],
  ])('%s matches %j: %s', (pattern, path, expected) => {
    expect(compileMaskPaths([pattern])(path)).toBe(expected);
  });
});

describe('parseRedactionRules', () => {
  it('accepts rules written as data', () => {
    const rules = { kinds: ['email', 'frNir'], maskPaths: ['**.password'], phoneRegions: ['FR'] };
    expect(parseRedactionRules(JSON.parse(JSON.stringify(rules)))).toEqual(rules);
  });

  it.each([
    ['not an object', []],
    ['an unknown field', { kind: ['email'] }],
    ['an unknown kind', { kinds: ['passport'] }],
    ['an empty path segment', { maskPaths: ['a..b'] }],
    ['a lower-case region', { phoneRegions: ['gb'] }],
    ['a non-string mask', { mask: 0 }],
  ])('refuses %s', (_case, rules) => {
    expect(() => parseRedactionRules(rules)).toThrowError(
      expect.objectContaining({ code: 'REDACTION_RULES_INVALID' }),
    );
  });
});
