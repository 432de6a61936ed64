import { describe, expect, it } from 'vitest';
import { canonicalJson, decide, inputFingerprint } from './decision.js';

const labels = ['ham', 'spam', 'phish'];

describe('decide', () => {
  it.each([
    // scores, thresholds, label, confidence, threshold applied, autoDecided
    [[0.1, 0.85, 0.05], { default: 0.8 }, 'spam', 0.85, 0.8, true],
    [[0.1, 0.75, 0.15], { default: 0.8 }, 'spam', 0.75, 0.8, false],
    [[0.1, 0.8, 0.1], { default: 0.8 }, 'spam', 0.8, 0.8, true], // at the threshold acts
    [[0.05, 0.05, 0.9], { default: 0.8, perLabel: { phish: 0.95 } }, 'phish', 0.9, 0.95, false],
    [[0.6, 0.3, 0.1], { default: 0.8, perLabel: { ham: 0.5 } }, 'ham', 0.6, 0.5, true],
    [[0.4, 0.4, 0.2], { default: 0.3 }, 'ham', 0.4, 0.3, true], // ties go to the first label
    [[0.2, 0.7, 0.1], { default: 1 }, 'spam', 0.7, 1, false], // 1 reviews everything
  ] as const)('%j with %j -> %s', (scores, thresholds, label, confidence, threshold, auto) => {
    const d = decide(scores, labels, thresholds);
    expect(d).toEqual({
      label,
      confidence,
      threshold,
      autoDecided: auto,
      scores: { ham: scores[0], spam: scores[1], phish: scores[2] },
    });
  });

  it.each([
    [[0.5, 0.5], { default: 0.5 }, 'SCORES_INVALID', /2 scores for 3 labels/],
    [[0.5, 1.5, 0], { default: 0.5 }, 'SCORES_INVALID', /probabilities in \[0, 1\]/],
    [[0.5, Number.NaN, 0], { default: 0.5 }, 'SCORES_INVALID', /probabilities/],
    [[0.5, 0.3, 0.2], { default: 1.2 }, 'THRESHOLDS_INVALID', /default is 1.2/],
    [
      [0.5, 0.3, 0.2],
      { default: 0.5, perLabel: { spam: -1 } },
      'THRESHOLDS_INVALID',
      /label 'spam'/,
    ],
  ] as const)('refuses %j with %j', (scores, thresholds, code, message) => {
    expect(() => decide(scores, labels, thresholds)).toThrow(
      expect.objectContaining({ code, message: expect.stringMatching(message) }),
    );
  });
});

describe('inputFingerprint', () => {
  it('ignores key order and typed-array vs array, and changes with any value', () => {
    const a = { kind: 'sparse', indices: [1, 5], values: new Float32Array([0.5, 0.25]) };
    const b = { values: [0.5, 0.25], indices: [1, 5], kind: 'sparse' };
    expect(inputFingerprint(a)).toBe(inputFingerprint(b));
    expect(inputFingerprint(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(inputFingerprint({ ...b, values: [0.5, 0.26] })).not.toBe(inputFingerprint(b));
    expect(inputFingerprint({ raw: 'x' })).not.toBe(inputFingerprint({ raw: 'x ' }));
  });

  it('writes canonical JSON with sorted keys at every depth', () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: 'x', u: undefined })).toBe(
      '{"a":"x","b":[{"c":2,"d":1}]}',
    );
    expect(() => canonicalJson({ x: Number.POSITIVE_INFINITY })).toThrow(
      expect.objectContaining({ code: 'FEATURES_INVALID' }),
    );
  });
});
