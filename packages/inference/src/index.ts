export {
  type ParsedEmail,
  type ParseEmailOptions,
  parseEmail,
  parseMediaType,
} from './email-parse.js';
export { InferenceError, type InferenceErrorCode } from './errors.js';
export {
  defaultEmailFeaturizerSpec,
  featurize,
  type HashedNgramsSpec,
  type SparseFeatures,
  validateFeaturizerSpec,
} from './featurizer.js';
export { decodeHtmlEntities, type HtmlText, htmlToText } from './html-text.js';
export {
  decodeBase64,
  decodeCharset,
  decodeHeaderValue,
  decodeQuotedPrintable,
} from './mime-decode.js';
export {
  exportSparseLogisticOnnx,
  type OnnxModelMetadata,
  readOnnxMetadata,
  sparseModelIo,
} from './onnx-export.js';
export { buildSparseBatch, type SparseBatch, sparseBatchShapes } from './onnx-input.js';
export { predictPositive, type SparseLogisticModel } from './sparse-linear.js';
