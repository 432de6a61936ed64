// The sparse logistic model as plain data, and its reference prediction in TypeScript. The
// ONNX export computes exactly this; the parity test holds the two together.

import { InferenceError } from './errors.js';
import type { SparseFeatures } from './featurizer.js';

/** Binary logistic regression over a hashed feature space. */
export interface SparseLogisticModel {
  kind: 'sparse-logistic';
  /** `[negative, positive]`: the label of probability column 0 and column 1. */
  labels: [string, string];
  /** One weight per hashed feature (length = the featurizer spec's `dims`). */
  weights: Float32Array;
  bias: number;
}

/** Probability of the positive label (`labels[1]`), computed in float32 like ONNX Runtime. */
export function predictPositive(model: SparseLogisticModel, features: SparseFeatures): number {
  const { indices, values } = features;
  let z = 0;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (i < 0 || i >= model.weights.length) {
      throw new InferenceError(
        'FEATURES_INVALID',
        `Feature index ${i} is outside the model's ${model.weights.length} weights: featurize with the spec stored with the model.`,
        { index: i, dims: model.weights.length },
      );
    }
    z = Math.fround(z + Math.fround(model.weights[i]! * values[k]!));
  }
  z = Math.fround(z + model.bias);
  return 1 / (1 + Math.exp(-z));
}
