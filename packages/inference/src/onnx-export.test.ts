import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { parseEmail } from './email-parse.js';
import { InferenceError } from './errors.js';
import { defaultEmailFeaturizerSpec, featurize, type HashedNgramsSpec } from './featurizer.js';
import { exportSparseLogisticOnnx, readOnnxMetadata, sparseModelIo } from './onnx-export.js';
import { buildSparseBatch, sparseBatchShapes } from './onnx-input.js';
import { predictPositive, type SparseLogisticModel } from './sparse-linear.js';

const spec: HashedNgramsSpec = { ...defaultEmailFeaturizerSpec, dims: 1 << 14 };

function randomModel(): SparseLogisticModel {
  let s = 42;
  const weights = new Float32Array(spec.dims).map(() => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 2 ** 32 - 0.5) * 4;
  });
  return { kind: 'sparse-logistic', labels: ['ham', 'spam'], weights, bias: -0.3 };
}

const emails = [
  'From: a@example.org\nSubject: Hello\n\nShort note.',
  'Subject: Cheap meds!!!\nContent-Type: text/html\n\n<b>Buy now</b> <a href="http://x.example">x</a> and save 80% on everything you ever wanted to buy',
  'Subject: (no body)\n\n',
].map((raw) => featurize(spec, parseEmail(raw)));

describe('exportSparseLogisticOnnx', () => {
  it('gives the same probabilities in onnxruntime as the TypeScript model, batch of mixed lengths', async () => {
    const model = randomModel();
    const session = await ort.InferenceSession.create(exportSparseLogisticOnnx(model, spec));
    expect(session.inputNames).toEqual([sparseModelIo.indices, sparseModelIo.values]);
    const batch = buildSparseBatch(emails);
    const feeds = Object.fromEntries(
      Object.entries(sparseBatchShapes(batch)).map(([name, t]) => [
        name,
        new ort.Tensor(t.type, t.data, t.dims),
      ]),
    );
    const out = (await session.run(feeds))[sparseModelIo.probabilities]!;
    expect(out.dims).toEqual([emails.length, 2]);
    const probs = out.data as Float32Array;
    emails.forEach((features, r) => {
      const expected = predictPositive(model, features);
      expect(probs[r * 2 + 1]).toBeCloseTo(expected, 5);
      expect(probs[r * 2]).toBeCloseTo(1 - expected, 5);
    });
    // The random weights must actually separate the rows, or the check above proves little.
    expect(new Set(emails.map((f) => predictPositive(model, f).toFixed(3))).size).toBe(
      emails.length,
    );
    await session.release();
  });

  it('round-trips labels, featurizer spec and extra properties through the model file', () => {
    const bytes = exportSparseLogisticOnnx(randomModel(), spec, { 'roster.threshold': '0.8' });
    const meta = readOnnxMetadata(bytes);
    expect(meta.labels).toEqual(['ham', 'spam']);
    expect(meta.featurizer).toEqual(spec);
    expect(meta.properties['roster.threshold']).toBe('0.8');
  });

  it('refuses a model whose weight table does not match the featurizer', () => {
    try {
      exportSparseLogisticOnnx(randomModel(), { ...spec, dims: 1 << 10 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InferenceError);
      expect((e as InferenceError).code).toBe('MODEL_INVALID');
    }
  });
});
