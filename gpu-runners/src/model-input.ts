// Turns claimed inputs into rows a model takes, and rows into one batch's feeds. Each item is
// checked (and emails featurized) on its own before batching, so one bad input fails alone.

import {
  buildSparseBatch,
  type FeaturizerSpec,
  featurize,
  type InferenceInput,
  parseEmail,
  type SparseFeatures,
  sparseBatchShapes,
} from '@roster/inference';
import { RunnerError } from './errors.js';
import type { Feeds } from './session-pool.js';

export interface RowCodec<R> {
  /** Checks one input and converts it; throws INPUT_INVALID (not retryable). */
  prepare(input: InferenceInput): R;
  /** One batch's feeds for the session. */
  collate(rows: readonly R[]): Feeds;
}

function invalid(message: string): RunnerError {
  return new RunnerError('INPUT_INVALID', message);
}

function denseCodec(width: number, inputName: string): RowCodec<Float32Array> {
  return {
    prepare(input) {
      if (input.kind !== 'dense') {
        throw invalid(
          `This model takes dense rows of ${width} numbers, got an input of kind '${input.kind}'.`,
        );
      }
      if (input.values.length !== width) {
        throw invalid(`This model takes ${width} numbers per row, got ${input.values.length}.`);
      }
      return Float32Array.from(input.values);
    },
    collate(rows) {
      const data = new Float32Array(rows.length * width);
      rows.forEach((row, r) => {
        data.set(row, r * width);
      });
      return { [inputName]: { type: 'float32', data, dims: [rows.length, width] } };
    },
  };
}

function sparseCodec(
  spec: Extract<FeaturizerSpec, { kind: 'hashed-ngrams' }>,
): RowCodec<SparseFeatures> {
  return {
    prepare(input) {
      if (input.kind === 'email') return featurize(spec, parseEmail(input.raw));
      if (input.kind !== 'sparse') {
        throw invalid("This model takes an 'email' (raw RFC 822 text) or 'sparse' features input.");
      }
      if (input.indices.length !== input.values.length) {
        throw invalid(
          `Sparse input has ${input.indices.length} indices but ${input.values.length} values.`,
        );
      }
      // One pass converts and bounds-checks (the schema already made them non-negative ints).
      const indices = new Int32Array(input.indices.length);
      for (let k = 0; k < indices.length; k++) {
        const i = input.indices[k]!;
        if (i >= spec.dims) {
          throw invalid(
            `Sparse indices must be below the featurizer's ${spec.dims} dims, got ${i}.`,
          );
        }
        indices[k] = i;
      }
      return { indices, values: Float32Array.from(input.values) };
    },
    collate(rows) {
      const shapes = sparseBatchShapes(buildSparseBatch(rows));
      return Object.fromEntries(Object.entries(shapes).map(([name, t]) => [name, { ...t }]));
    },
  };
}

/** The codec for a model version's featurizer; `inputNames` come from its session. */
export function codecFor(spec: FeaturizerSpec, inputNames: readonly string[]): RowCodec<unknown> {
  return (
    spec.kind === 'dense' ? denseCodec(spec.width, inputNames[0]!) : sparseCodec(spec)
  ) as RowCodec<unknown>;
}

/** Splits the `[batch, classes]` scores output into one array per item. */
export function splitScores(outputs: Feeds, outputName: string, count: number): number[][] {
  const out = outputs[outputName];
  if (out?.dims.length !== 2 || out.dims[0] !== count) {
    throw new RunnerError(
      'BATCH_FAILED',
      `The model's '${outputName}' output has shape [${out?.dims.join(', ') ?? ''}], expected [${count}, classes].`,
    );
  }
  const classes = out.dims[1]!;
  const data = out.data as Float32Array;
  return Array.from({ length: count }, (_, r) =>
    Array.from(data.subarray(r * classes, (r + 1) * classes)),
  );
}
