import {
  defaultEmailFeaturizerSpec,
  featurize,
  type HashedNgramsSpec,
  type InferenceInput,
  parseEmail,
} from '@roster/inference';
import { describe, expect, it } from 'vitest';
import { codecFor, splitScores } from './model-input.js';

const spec: HashedNgramsSpec = { ...defaultEmailFeaturizerSpec, dims: 1 << 12 };
const sparse = codecFor(spec, ['indices', 'values']);
const dense = codecFor({ kind: 'dense', version: 1, width: 3 }, ['input']);

describe('input codecs', () => {
  it('featurizes an email input with the model version spec, as training did', () => {
    const raw = 'From: a@example.org\nSubject: Invoice\n\nPlease find the invoice attached.';
    expect(sparse.prepare({ kind: 'email', raw })).toEqual(featurize(spec, parseEmail(raw)));
  });

  it('pads sparse rows of different lengths into one batch', () => {
    const rows = [
      sparse.prepare({ kind: 'sparse', indices: [1, 7], values: [0.5, 0.25] }),
      sparse.prepare({ kind: 'sparse', indices: [3], values: [1] }),
    ];
    const feeds = sparse.collate(rows);
    expect(feeds.indices!.dims).toEqual([2, 2]);
    expect(Array.from(feeds.indices!.data as BigInt64Array)).toEqual([1n, 7n, 3n, 0n]);
    expect(Array.from(feeds.values!.data as Float32Array)).toEqual([0.5, 0.25, 1, 0]);
  });

  it.each([
    [
      sparse,
      { kind: 'sparse', indices: [4096], values: [1] },
      /below the featurizer's 4096 dims, got 4096/,
    ],
    [sparse, { kind: 'sparse', indices: [1, 2], values: [1] }, /2 indices but 1 values/],
    [sparse, { kind: 'dense', values: [1] }, /'email' \(raw RFC 822 text\) or 'sparse'/],
    [dense, { kind: 'dense', values: [1, 2] }, /3 numbers per row, got 2/],
  ] as Array<[typeof sparse, InferenceInput, RegExp]>)(
    'refuses a bad input alone (%#)',
    (codec, input, message) => {
      expect(() => codec.prepare(input)).toThrow(
        expect.objectContaining({ code: 'INPUT_INVALID', message: expect.stringMatching(message) }),
      );
    },
  );

  it('splits [batch, classes] scores per item and refuses another shape', () => {
    const outputs = {
      p: { type: 'float32' as const, data: new Float32Array([0.1, 0.9, 0.7, 0.3]), dims: [2, 2] },
    };
    expect(splitScores(outputs, 'p', 2).map((r) => r.map((x) => x.toFixed(1)))).toEqual([
      ['0.1', '0.9'],
      ['0.7', '0.3'],
    ]);
    expect(() => splitScores(outputs, 'p', 3)).toThrow(
      expect.objectContaining({ code: 'BATCH_FAILED' }),
    );
  });
});
