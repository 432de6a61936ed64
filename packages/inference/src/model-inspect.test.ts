import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exportDenseMlpOnnx } from './dense-mlp-export.js';
import { InferenceError } from './errors.js';
import { defaultEmailFeaturizerSpec } from './featurizer.js';
import { inspectOnnxModel, sha256Hex } from './model-inspect.js';
import { checkFeaturizerCompatibility } from './model-signature.js';
import { exportSparseLogisticOnnx } from './onnx-export.js';

async function refusal(bytes: Uint8Array): Promise<InferenceError> {
  try {
    await inspectOnnxModel(bytes);
  } catch (e) {
    return e as InferenceError;
  }
  throw new Error('inspectOnnxModel accepted a file that is not ONNX');
}

// The demo model's exporter with an all-zero weight table: the same graph as the trained model.
function demoShapedModel(): Uint8Array {
  const weights = new Float32Array(defaultEmailFeaturizerSpec.dims);
  return exportSparseLogisticOnnx(
    { kind: 'sparse-logistic', labels: ['ham', 'spam'], weights, bias: 0 },
    defaultEmailFeaturizerSpec,
  );
}

describe('inspectOnnxModel', () => {
  it('refuses a text file, a truncated model and an empty file with INVALID_MODEL', async () => {
    const model = exportDenseMlpOnnx({ layers: [4, 3], seed: 2 });
    for (const bytes of [
      new TextEncoder().encode('{"not": "a model"}'),
      model.subarray(0, model.length - 40),
      new Uint8Array(0),
    ]) {
      const e = await refusal(bytes);
      expect(e).toBeInstanceOf(InferenceError);
      expect(e.code).toBe('INVALID_MODEL');
      expect(e.message).toMatch(/not a loadable ONNX model/);
      expect(e.details?.sha256).toBe(sha256Hex(bytes));
    }
  });

  it("reads the demo email model's signature, content address and metadata", async () => {
    const trained = new URL(
      '../../../gpu-runners/models/email-triage/out/model.onnx',
      import.meta.url,
    );
    const bytes = existsSync(trained) ? new Uint8Array(readFileSync(trained)) : demoShapedModel();
    const sig = await inspectOnnxModel(bytes);
    expect(sig.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(sig.sha256).toBe(sha256Hex(bytes));
    expect(sig.bytes).toBe(bytes.length);
    expect(sig.inputs).toEqual([
      { name: 'indices', type: 'int64', dims: ['batch', 'features'] },
      { name: 'values', type: 'float32', dims: ['batch', 'features'] },
    ]);
    expect(sig.outputs).toEqual([{ name: 'probabilities', type: 'float32', dims: ['batch', 2] }]);
    expect(JSON.parse(sig.metadata['roster.labels']!)).toEqual(['ham', 'spam']);
    // And the stored featurizer accepts it.
    checkFeaturizerCompatibility(
      sig,
      JSON.parse(sig.metadata['roster.featurizer']!),
      JSON.parse(sig.metadata['roster.labels']!),
    );
  });

  it('reads a dense MLP with its fixed widths', async () => {
    const sig = await inspectOnnxModel(exportDenseMlpOnnx({ layers: [8, 5, 3] }));
    expect(sig.inputs).toEqual([{ name: 'input', type: 'float32', dims: ['batch', 8] }]);
    expect(sig.outputs).toEqual([{ name: 'probabilities', type: 'float32', dims: ['batch', 3] }]);
  });
});
