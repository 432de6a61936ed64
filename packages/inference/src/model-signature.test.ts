import { describe, expect, it } from 'vitest';
import { InferenceError } from './errors.js';
import { defaultEmailFeaturizerSpec } from './featurizer.js';
import {
  checkFeaturizerCompatibility,
  type FeaturizerSpec,
  type ModelSignature,
} from './model-signature.js';

const sparse: ModelSignature = {
  sha256: 'a'.repeat(64),
  bytes: 10,
  inputs: [
    { name: 'indices', type: 'int64', dims: ['batch', 'features'] },
    { name: 'values', type: 'float32', dims: ['batch', 'features'] },
  ],
  outputs: [{ name: 'probabilities', type: 'float32', dims: ['batch', 2] }],
  metadata: {},
};
const dense: ModelSignature = {
  ...sparse,
  inputs: [{ name: 'input', type: 'float32', dims: ['batch', 512] }],
  outputs: [{ name: 'probabilities', type: 'float32', dims: ['batch', 16] }],
};
const denseSpec: FeaturizerSpec = { kind: 'dense', version: 1, width: 512 };
const labels16 = Array.from({ length: 16 }, (_, i) => `c${i}`);

function problemsOf(sig: ModelSignature, spec: FeaturizerSpec, labels?: string[]): string[] {
  try {
    checkFeaturizerCompatibility(sig, spec, labels);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(InferenceError);
    expect((e as InferenceError).code).toBe('MODEL_SIGNATURE_MISMATCH');
    expect((e as InferenceError).message).toMatch(/Upload the model with the featurizer spec/);
    return (e as InferenceError).details?.problems as string[];
  }
}

describe('checkFeaturizerCompatibility', () => {
  it.each([
    [
      'sparse model, email featurizer, 2 labels',
      sparse,
      defaultEmailFeaturizerSpec,
      ['ham', 'spam'],
      [],
    ],
    ['dense model, dense featurizer, 16 labels', dense, denseSpec, labels16, []],
    [
      'dense model, email featurizer',
      dense,
      defaultEmailFeaturizerSpec,
      undefined,
      [/feeds inputs 'indices'/],
    ],
    [
      'sparse model, dense featurizer',
      sparse,
      denseSpec,
      undefined,
      [/exactly one input/, /'indices' is int64, expected float32/],
    ],
    [
      'dense width 512 vs featurizer 256',
      dense,
      { ...denseSpec, width: 256 },
      undefined,
      [/takes 512 features, the featurizer gives 256/],
    ],
    [
      '2 class scores vs 3 labels',
      sparse,
      defaultEmailFeaturizerSpec,
      ['a', 'b', 'c'],
      [/2 class scores but the version has 3 labels/],
    ],
    [
      'indices declared float',
      { ...sparse, inputs: [{ ...sparse.inputs[0]!, type: 'float32' }, sparse.inputs[1]!] },
      defaultEmailFeaturizerSpec,
      undefined,
      [/'indices' is float32, expected int64/],
    ],
    [
      'scores of rank 1',
      { ...dense, outputs: [{ name: 'p', type: 'float32', dims: ['batch'] }] },
      denseSpec,
      undefined,
      [/rank 1, expected 2/],
    ],
  ] as const)('%s', (_name, sig, spec, labels, expected) => {
    const problems = problemsOf(
      sig as ModelSignature,
      spec as FeaturizerSpec,
      labels as string[] | undefined,
    );
    expect(problems).toHaveLength(expected.length);
    expected.forEach((pattern, i) => {
      expect(problems[i]).toMatch(pattern);
    });
  });

  it('refuses an invalid featurizer spec before looking at the model', () => {
    expect(() =>
      checkFeaturizerCompatibility(sparse, { ...defaultEmailFeaturizerSpec, dims: 1 }),
    ).toThrow(expect.objectContaining({ code: 'FEATURIZER_SPEC_INVALID' }));
  });
});
