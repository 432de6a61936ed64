// ONNX export of the sparse logistic model. Hashing stays in JS (the featurizer); the graph
// takes a padded batch of feature indices and values:
//   indices int64 [N, K], values float [N, K]
//   -> Gather(weights) * values -> ReduceSum(axis 1) + bias = logit [N, 1]
//   -> probabilities [N, 2] = Concat(Sigmoid(-logit), Sigmoid(logit)), columns = labels.
// Padding uses index 0 with value 0, which adds nothing. The featurizer spec and labels
// travel inside the model as metadata, so a model file alone is enough to serve it.

import onnxProto from 'onnx-proto';
import { InferenceError } from './errors.js';
import { type HashedNgramsSpec, validateFeaturizerSpec } from './featurizer.js';
import type { SparseLogisticModel } from './sparse-linear.js';

const { onnx } = onnxProto;

/** Names of the graph's inputs and output. */
export const sparseModelIo = {
  indices: 'indices',
  values: 'values',
  probabilities: 'probabilities',
} as const;

const META_LABELS = 'roster.labels';
const META_FEATURIZER = 'roster.featurizer';

/** What a model file carries besides its graph. */
export interface OnnxModelMetadata {
  /** Class names in the order of the `probabilities` columns. */
  labels: string[];
  featurizer: HashedNgramsSpec;
  /** Every metadata entry, including extra ones given at export. */
  properties: Record<string, string>;
}

function tensorInput(name: string, elemType: number): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'features' }] },
      },
    },
  };
}

function floatBytes(values: Float32Array): Uint8Array {
  // ONNX raw data is little-endian; DataView makes that explicit on any host.
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
}

/**
 * Serializes `model` as an ONNX model (opset 13). `properties` are extra metadata entries
 * (e.g. the review threshold); keys `roster.labels` and `roster.featurizer` are reserved.
 */
export function exportSparseLogisticOnnx(
  model: SparseLogisticModel,
  featurizer: HashedNgramsSpec,
  properties: Record<string, string> = {},
): Uint8Array {
  validateFeaturizerSpec(featurizer);
  if (model.weights.length !== featurizer.dims) {
    throw new InferenceError(
      'MODEL_INVALID',
      `The model has ${model.weights.length} weights but the featurizer has ${featurizer.dims} dims: export the model with the spec it was trained with.`,
      { weights: model.weights.length, dims: featurizer.dims },
    );
  }
  const { FLOAT, INT64 } = onnx.TensorProto.DataType;
  const io = sparseModelIo;
  const graph: onnxProto.onnx.IGraphProto = {
    name: 'sparse_logistic',
    input: [tensorInput(io.indices, INT64), tensorInput(io.values, FLOAT)],
    output: [
      {
        name: io.probabilities,
        type: {
          tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 2 }] } },
        },
      },
    ],
    initializer: [
      {
        name: 'weights',
        dataType: FLOAT,
        dims: [model.weights.length],
        rawData: floatBytes(model.weights),
      },
      { name: 'bias', dataType: FLOAT, dims: [1], floatData: [model.bias] },
      { name: 'sum_axes', dataType: INT64, dims: [1], int64Data: [1] },
    ],
    node: [
      { opType: 'Gather', input: ['weights', io.indices], output: ['gathered'], name: 'gather' },
      { opType: 'Mul', input: ['gathered', io.values], output: ['terms'], name: 'mul' },
      {
        opType: 'ReduceSum',
        input: ['terms', 'sum_axes'],
        output: ['dot'],
        name: 'sum',
        attribute: [{ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
      },
      { opType: 'Add', input: ['dot', 'bias'], output: ['logit'], name: 'add_bias' },
      { opType: 'Neg', input: ['logit'], output: ['neg_logit'], name: 'neg' },
      { opType: 'Sigmoid', input: ['neg_logit'], output: ['p_negative'], name: 'sigmoid_negative' },
      { opType: 'Sigmoid', input: ['logit'], output: ['p_positive'], name: 'sigmoid_positive' },
      {
        opType: 'Concat',
        input: ['p_negative', 'p_positive'],
        output: [io.probabilities],
        name: 'concat',
        attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
      },
    ],
  };
  const metadata = {
    ...properties,
    [META_LABELS]: JSON.stringify(model.labels),
    [META_FEATURIZER]: JSON.stringify(featurizer),
  };
  const proto = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'roster',
    producerVersion: '1',
    graph,
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** Reads the labels, featurizer spec and other metadata back from a model file. */
export function readOnnxMetadata(bytes: Uint8Array): OnnxModelMetadata {
  let decoded: onnxProto.onnx.ModelProto;
  try {
    decoded = onnx.ModelProto.decode(bytes);
  } catch (cause) {
    throw new InferenceError(
      'MODEL_INVALID',
      'The bytes are not an ONNX model: check the file path and that it was fully written.',
      {},
      { cause },
    );
  }
  const properties: Record<string, string> = {};
  for (const p of decoded.metadataProps) if (p.key) properties[p.key] = p.value ?? '';
  const labels = properties[META_LABELS];
  const featurizer = properties[META_FEATURIZER];
  if (labels === undefined || featurizer === undefined) {
    throw new InferenceError(
      'ONNX_METADATA_MISSING',
      `The model lacks the ${META_LABELS} / ${META_FEATURIZER} metadata: export it with exportSparseLogisticOnnx.`,
      { keys: Object.keys(properties) },
    );
  }
  return {
    labels: JSON.parse(labels) as string[],
    featurizer: validateFeaturizerSpec(JSON.parse(featurizer)),
    properties,
  };
}
