// A model version's input/output signature and the check that its featurizer can feed it.
// Pure: the signature is read by `inspectOnnxModel` (model-inspect.ts, which loads
// onnxruntime) and stored with the version, so the registry can re-check it without a session.

import { InferenceError } from './errors.js';
import { type HashedNgramsSpec, validateFeaturizerSpec } from './featurizer.js';
import { sparseModelIo } from './onnx-export.js';

/** One input or output: a number is a fixed dimension, a string a symbolic one (e.g. `batch`). */
export interface TensorInfo {
  name: string;
  /** onnxruntime's tensor type (`float32`, `int64`, ...) or `non-tensor` (sequences, maps). */
  type: string;
  dims: Array<number | string>;
}

export interface ModelSignature {
  /** sha-256 of the model file, lower-case hex: the version's content address. */
  sha256: string;
  bytes: number;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** The file's `metadata_props` (e.g. `roster.labels`). */
  metadata: Record<string, string>;
}

/** A model fed one dense float32 row per item: input `[batch, width]`. */
export interface DenseFeaturizerSpec {
  kind: 'dense';
  version: 1;
  width: number;
}

/** How a version's inputs are built from a request; stored with every model version. */
export type FeaturizerSpec = HashedNgramsSpec | DenseFeaturizerSpec;

function rank2Problems(t: TensorInfo | undefined, what: string, type: string): string[] {
  if (!t) return [`the model has no ${what}`];
  const out: string[] = [];
  if (t.type !== type) out.push(`${what} '${t.name}' is ${t.type}, expected ${type}`);
  if (t.dims.length !== 2) out.push(`${what} '${t.name}' has rank ${t.dims.length}, expected 2`);
  return out;
}

function scoreOutputProblems(sig: ModelSignature, labels: readonly string[] | undefined): string[] {
  if (sig.outputs.length === 0) return ['the model has no outputs'];
  const out = sig.outputs[0]!;
  const problems = rank2Problems(out, 'output', 'float32');
  const classes = out.dims[1];
  if (labels && typeof classes === 'number' && classes !== labels.length) {
    problems.push(
      `output '${out.name}' has ${classes} class scores but the version has ${labels.length} labels`,
    );
  }
  return problems;
}

/**
 * Throws MODEL_SIGNATURE_MISMATCH unless a model with `signature` can be fed by `spec` and
 * scores `labels` (the first output, `[batch, classes]`, is the class scores).
 */
export function checkFeaturizerCompatibility(
  signature: ModelSignature,
  spec: FeaturizerSpec,
  labels?: readonly string[],
): void {
  const problems: string[] = [];
  if (spec.kind === 'dense') {
    if (!Number.isInteger(spec.width) || spec.width < 1) {
      throw new InferenceError(
        'FEATURIZER_SPEC_INVALID',
        'A dense featurizer spec needs an integer width >= 1.',
        { spec },
      );
    }
    if (signature.inputs.length !== 1) {
      problems.push(
        `a dense featurizer feeds exactly one input, the model has ${signature.inputs.length}`,
      );
    }
    const input = signature.inputs[0];
    problems.push(...rank2Problems(input, 'input', 'float32'));
    const width = input?.dims[1];
    if (typeof width === 'number' && width !== spec.width) {
      problems.push(
        `input '${input!.name}' takes ${width} features, the featurizer gives ${spec.width}`,
      );
    }
  } else {
    validateFeaturizerSpec(spec);
    const names = signature.inputs.map((i) => i.name).sort();
    const expected = [sparseModelIo.indices, sparseModelIo.values].sort();
    if (names.join() !== expected.join()) {
      problems.push(
        `a hashed-ngrams featurizer feeds inputs '${sparseModelIo.indices}' (int64) and '${sparseModelIo.values}' (float32), the model takes ${names.map((n) => `'${n}'`).join(', ') || 'none'}`,
      );
    } else {
      const byName = new Map(signature.inputs.map((i) => [i.name, i]));
      problems.push(...rank2Problems(byName.get(sparseModelIo.indices), 'input', 'int64'));
      problems.push(...rank2Problems(byName.get(sparseModelIo.values), 'input', 'float32'));
    }
  }
  problems.push(...scoreOutputProblems(signature, labels));
  if (problems.length > 0) {
    throw new InferenceError(
      'MODEL_SIGNATURE_MISMATCH',
      `The model does not match its featurizer (${spec.kind}): ${problems.join('; ')}. Upload the model with the featurizer spec and labels it was trained with.`,
      { problems, sha256: signature.sha256 },
    );
  }
}
