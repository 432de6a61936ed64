// A dense multi-layer perceptron as ONNX, with seeded random weights: the compute-heavy model
// the inference bench and runner tests use (MatMul + Add + Relu per layer, Softmax at the end).

import onnxProto from 'onnx-proto';
import { InferenceError } from './errors.js';

const { onnx } = onnxProto;

export const denseMlpIo = { input: 'input', probabilities: 'probabilities' } as const;

export interface DenseMlpOptions {
  /** Layer widths from input to output, e.g. [512, 2048, 2048, 16]. */
  layers: readonly number[];
  /** Seed of the weights; the same seed gives the same file. Default 1. */
  seed?: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomFloats(count: number, scale: number, next: () => number): Uint8Array {
  const out = new Uint8Array(count * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) view.setFloat32(i * 4, (next() * 2 - 1) * scale, true);
  return out;
}

/** Serializes the MLP (opset 13); `roster.labels` metadata names the classes `class_0..`. */
export function exportDenseMlpOnnx(options: DenseMlpOptions): Uint8Array {
  const { layers } = options;
  if (layers.length < 2 || !layers.every((w) => Number.isInteger(w) && w >= 1)) {
    throw new InferenceError(
      'MODEL_INVALID',
      `An MLP needs at least two positive integer layer widths, got [${layers.join(', ')}].`,
    );
  }
  const next = mulberry32(options.seed ?? 1);
  const { FLOAT } = onnx.TensorProto.DataType;
  const initializer: onnxProto.onnx.ITensorProto[] = [];
  const node: onnxProto.onnx.INodeProto[] = [];
  let current: string = denseMlpIo.input;
  for (let l = 0; l + 1 < layers.length; l++) {
    const [fanIn, fanOut] = [layers[l]!, layers[l + 1]!];
    // Uniform(-a, a) with a = sqrt(3 / fanIn) keeps activations of order 1 through the layers.
    const scale = Math.sqrt(3 / fanIn);
    initializer.push(
      {
        name: `w${l}`,
        dataType: FLOAT,
        dims: [fanIn, fanOut],
        rawData: randomFloats(fanIn * fanOut, scale, next),
      },
      { name: `b${l}`, dataType: FLOAT, dims: [fanOut], rawData: randomFloats(fanOut, 0.1, next) },
    );
    node.push(
      { opType: 'MatMul', input: [current, `w${l}`], output: [`mm${l}`], name: `matmul${l}` },
      { opType: 'Add', input: [`mm${l}`, `b${l}`], output: [`z${l}`], name: `add${l}` },
    );
    current = `z${l}`;
    if (l + 2 < layers.length) {
      node.push({ opType: 'Relu', input: [current], output: [`h${l}`], name: `relu${l}` });
      current = `h${l}`;
    }
  }
  node.push({
    opType: 'Softmax',
    input: [current],
    output: [denseMlpIo.probabilities],
    name: 'softmax',
    attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
  });
  const tensor = (name: string, width: number): onnxProto.onnx.IValueInfoProto => ({
    name,
    type: {
      tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: width }] } },
    },
  });
  const classes = layers[layers.length - 1]!;
  const proto = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'roster',
    producerVersion: '1',
    graph: {
      name: 'dense_mlp',
      input: [tensor(denseMlpIo.input, layers[0]!)],
      output: [tensor(denseMlpIo.probabilities, classes)],
      initializer,
      node,
    },
    metadataProps: [
      {
        key: 'roster.labels',
        value: JSON.stringify(Array.from({ length: classes }, (_, i) => `class_${i}`)),
      },
      {
        key: 'roster.featurizer',
        value: JSON.stringify({ kind: 'dense', version: 1, width: layers[0] }),
      },
    ],
  });
  return onnx.ModelProto.encode(proto).finish();
}
