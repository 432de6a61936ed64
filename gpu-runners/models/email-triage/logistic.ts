// Sparse logistic regression trained with AdaGrad SGD: seconds on a laptop core for the
// ~5,000 training emails, and its weights drop straight into the ONNX weight table.

import type { SparseFeatures, SparseLogisticModel } from '@roster/inference';
import { seededRandom, shuffleInPlace } from './seeded-random.js';

export interface LogisticOptions {
  /** Passes over the data (default 12). */
  epochs?: number;
  /** AdaGrad base learning rate (default 0.5). */
  learningRate?: number;
  /** L2 penalty per example step on touched weights (default 1e-5). */
  l2?: number;
  /** Weight of positive examples relative to negatives (default 1). */
  positiveWeight?: number;
  /** Seed of the example order. */
  seed: number;
}

export function trainLogistic(
  xs: readonly SparseFeatures[],
  ys: readonly number[],
  dims: number,
  labels: [string, string],
  options: LogisticOptions,
): SparseLogisticModel {
  const epochs = options.epochs ?? 12;
  const lr = options.learningRate ?? 0.5;
  const l2 = options.l2 ?? 1e-5;
  const posWeight = options.positiveWeight ?? 1;
  const w = new Float64Array(dims);
  const g2 = new Float64Array(dims).fill(1e-8);
  let bias = 0;
  let biasG2 = 1e-8;
  const order = xs.map((_, i) => i);
  const random = seededRandom(options.seed);
  for (let epoch = 0; epoch < epochs; epoch++) {
    shuffleInPlace(order, random);
    for (const n of order) {
      const { indices, values } = xs[n]!;
      let z = bias;
      for (let k = 0; k < indices.length; k++) z += w[indices[k]!]! * values[k]!;
      const p = 1 / (1 + Math.exp(-z));
      const y = ys[n]!;
      const err = (p - y) * (y === 1 ? posWeight : 1);
      for (let k = 0; k < indices.length; k++) {
        const i = indices[k]!;
        const g = err * values[k]! + l2 * w[i]!;
        g2[i]! += g * g;
        w[i]! -= (lr * g) / Math.sqrt(g2[i]!);
      }
      biasG2 += err * err;
      bias -= (lr * err) / Math.sqrt(biasG2);
    }
  }
  return { kind: 'sparse-logistic', labels, weights: Float32Array.from(w), bias };
}
