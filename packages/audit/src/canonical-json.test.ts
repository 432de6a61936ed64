import { describe, expect, it } from 'vitest';
import { canonicalize } from './canonical-json.js';

describe('canonicalize (RFC 8785)', () => {
  it('reproduces the RFC 8785 section 3.2.2 example', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    );
    expect(canonicalize(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts keys by UTF-16 code units as in RFC 8785 section 3.2.3', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const order = [...canonicalize(input).matchAll(/"([^"]*)":/g)].map((m) =>
      JSON.parse(`"${m[1]}"`),
    );
    expect(order).toEqual(['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
  });

  it('writes nested values without whitespace and is independent of key order', () => {
    const a = canonicalize({ b: [1, { y: 2, x: [] }], a: { d: null, c: 'x' } });
    const b = canonicalize({ a: { c: 'x', d: null }, b: [1, { x: [], y: 2 }] });
    expect(a).toBe(b);
    expect(a).toBe('{"a":{"c":"x","d":null},"b":[1,{"x":[],"y":2}]}');
  });

  it.each([
    [-0, '0'],
    [1e21, '1e+21'],
    [1e-7, '1e-7'],
    [0.1 + 0.2, '0.30000000000000004'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
  ])('serializes the number %s as %s', (value, text) => {
    expect(canonicalize(value)).toBe(text);
  });

  it('round-trips through JSON.parse', () => {
    const value = { s: 'line\nbreak "quoted" \u0001 é 😀', n: [0, -1.5, 1e100], t: true };
    expect(JSON.parse(canonicalize(value))).toEqual(value);
  });

  it('allows the same object twice when it is not a cycle', () => {
    const shared = { k: 1 };
    expect(canonicalize({ a: shared, b: shared })).toBe('{"a":{"k":1},"b":{"k":1}}');
  });

  const sparse: unknown[] = [1];
  sparse[2] = 3;
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  it.each([
    ['NaN', { n: Number.NaN }, '$.n'],
    ['Infinity', [Number.POSITIVE_INFINITY], '$[0]'],
    ['undefined value', { a: undefined }, '$.a'],
    ['undefined at top', undefined, '$'],
    ['function', { f: () => 1 }, '$.f'],
    ['bigint', { b: 1n }, '$.b'],
    ['Date', { d: new Date(0) }, '$.d'],
    ['Map', new Map(), '$'],
    ['sparse array', sparse, '$[1]'],
    ['cycle', cyclic, '$.self'],
  ])('rejects %s and names where', (_name, value, path) => {
    expect(() => canonicalize(value)).toThrowError(
      expect.objectContaining({ code: 'AUDIT_NOT_JSON', details: { path } }),
    );
  });
});
