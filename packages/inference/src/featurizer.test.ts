import { describe, expect, it } from 'vitest';
import { parseEmail } from './email-parse.js';
import { InferenceError } from './errors.js';
import { defaultEmailFeaturizerSpec, featurize, validateFeaturizerSpec } from './featurizer.js';

const spam = parseEmail(
  'From: "Winner" <prize@lotto.example>\nSubject: You WON $1,000,000!!!\nContent-Type: text/html\n\n<p>Claim your <b>FREE</b> prize now at <a href="http://claim.lotto.example/now">here</a></p>',
);
const ham = parseEmail(
  'From: Ann <ann@example.org>\nSubject: Minutes\n\nNotes from the meeting are in the wiki.',
);

describe('featurize', () => {
  it('gives the same sparse vector every time, with sorted in-range indices', () => {
    const a = featurize(defaultEmailFeaturizerSpec, spam);
    // Interleave another email: shared scratch space must not leak between calls.
    featurize(defaultEmailFeaturizerSpec, ham);
    const b = featurize(defaultEmailFeaturizerSpec, spam);
    expect(Array.from(b.indices)).toEqual(Array.from(a.indices));
    expect(Array.from(b.values)).toEqual(Array.from(a.values));
    expect(a.indices.length).toBeGreaterThan(50);
    for (let k = 1; k < a.indices.length; k++)
      expect(a.indices[k]!).toBeGreaterThan(a.indices[k - 1]!);
    expect(a.indices[a.indices.length - 1]!).toBeLessThan(defaultEmailFeaturizerSpec.dims);
  });

  it('depends on the hash seed and dims, as a model stored with its spec expects', () => {
    const base = featurize(defaultEmailFeaturizerSpec, ham);
    const reseeded = featurize({ ...defaultEmailFeaturizerSpec, seed: 2 }, ham);
    expect(Array.from(reseeded.indices)).not.toEqual(Array.from(base.indices));
    const small = featurize({ ...defaultEmailFeaturizerSpec, dims: 1024 }, ham);
    expect(Math.max(...small.indices)).toBeLessThan(1024);
  });

  it('scales each field block to unit length', () => {
    // Six blocks (subject, from, structure, links, words, chars): the squared norm is at
    // most six and near it when few features collide across blocks.
    const { values } = featurize(defaultEmailFeaturizerSpec, spam);
    const sq = values.reduce((s, v) => s + v * v, 0);
    expect(sq).toBeGreaterThan(5.5);
    expect(sq).toBeLessThan(6.5);
  });

  it('rejects a spec it cannot compute with a stable code', () => {
    expect(() =>
      validateFeaturizerSpec({ ...defaultEmailFeaturizerSpec, kind: 'tfidf' }),
    ).toThrowError(InferenceError);
    try {
      validateFeaturizerSpec({ ...defaultEmailFeaturizerSpec, charNgrams: [5, 3] });
      expect.unreachable();
    } catch (e) {
      expect((e as InferenceError).code).toBe('FEATURIZER_SPEC_INVALID');
    }
    expect(validateFeaturizerSpec(JSON.parse(JSON.stringify(defaultEmailFeaturizerSpec)))).toEqual(
      defaultEmailFeaturizerSpec,
    );
  });
});
