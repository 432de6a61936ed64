// Reads a model file's signature with onnxruntime-node at upload. onnxruntime is imported
// lazily so that importing @roster/inference (e.g. for the pure protocol or decision code)
// does not load the native addon.

import { createHash } from 'node:crypto';
import onnxProto from 'onnx-proto';
import { InferenceError } from './errors.js';
import type { ModelSignature, TensorInfo } from './model-signature.js';

const { onnx } = onnxProto;

function metadataOf(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of onnx.ModelProto.decode(bytes).metadataProps)
    if (p.key) out[p.key] = p.value ?? '';
  return out;
}

/** sha-256 of `bytes`, lower-case hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Loads `bytes` in an onnxruntime CPU session and returns its content address and signature.
 * Throws INVALID_MODEL (with onnxruntime's reason) when the bytes are not a loadable ONNX model.
 */
export async function inspectOnnxModel(bytes: Uint8Array): Promise<ModelSignature> {
  const sha256 = sha256Hex(bytes);
  const refuse = (reason: string, cause?: unknown) =>
    new InferenceError(
      'INVALID_MODEL',
      `The uploaded file is not a loadable ONNX model (${reason}). Upload the .onnx file your exporter wrote (e.g. torch.onnx.export, skl2onnx), not a checkpoint, archive or text file.`,
      { sha256, bytes: bytes.length },
      { cause },
    );
  if (bytes.length === 0) throw refuse('the file is empty');
  const ort = await import('onnxruntime-node');
  let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  } catch (cause) {
    throw refuse(`onnxruntime: ${(cause as Error).message}`, cause);
  }
  try {
    const info = (m: (typeof session.inputMetadata)[number]): TensorInfo =>
      m.isTensor
        ? { name: m.name, type: m.type, dims: [...m.shape] }
        : { name: m.name, type: 'non-tensor', dims: [] };
    return {
      sha256,
      bytes: bytes.length,
      inputs: session.inputMetadata.map(info),
      outputs: session.outputMetadata.map(info),
      metadata: metadataOf(bytes),
    };
  } finally {
    await session.release();
  }
}
