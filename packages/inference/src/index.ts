export {
  canonicalJson,
  type Decision,
  type DecisionThresholds,
  decide,
  inputFingerprint,
} from './decision.js';
export { type DenseMlpOptions, denseMlpIo, exportDenseMlpOnnx } from './dense-mlp-export.js';
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
export { inspectOnnxModel, sha256Hex } from './model-inspect.js';
export {
  checkFeaturizerCompatibility,
  type DenseFeaturizerSpec,
  type FeaturizerSpec,
  type ModelSignature,
  type TensorInfo,
} from './model-signature.js';
export {
  exportSparseLogisticOnnx,
  type OnnxModelMetadata,
  readOnnxMetadata,
  sparseModelIo,
} from './onnx-export.js';
export { buildSparseBatch, type SparseBatch, sparseBatchShapes } from './onnx-input.js';
export {
  type CanaryStats,
  type CanaryThresholds,
  type CanaryVerdict,
  chooseDeployment,
  type Deployment,
  type DeploymentChoice,
  type DeploymentStage,
  emptyShadowTally,
  evaluateCanary,
  type ServingStats,
  type ShadowReport,
  type ShadowTally,
  shadowReport,
  tallyShadow,
  trafficBucket,
} from './rollout.js';
export {
  type ClaimedItem,
  type ClaimRequest,
  type ClaimResponse,
  type CompleteRequest,
  type CompleteResponse,
  claimedItemSchema,
  claimRequestSchema,
  claimResponseSchema,
  completeRequestSchema,
  completeResponseSchema,
  type ExecutionProvider,
  executionProviderSchema,
  type HeartbeatRequest,
  type HeartbeatResponse,
  heartbeatRequestSchema,
  heartbeatResponseSchema,
  type InferenceInput,
  type ItemError,
  type ItemResult,
  inferenceInputSchema,
  itemErrorSchema,
  itemResultSchema,
  type ModelManifest,
  modelManifestSchema,
  type PoolSettings,
  type ProtocolErrorBody,
  poolSettingsSchema,
  protocolErrorBodySchema,
  type RegisterRequest,
  type RegisterResponse,
  RUNNER_PROTOCOL_PREFIX,
  type RunnerCapabilities,
  registerRequestSchema,
  registerResponseSchema,
  runnerCapabilitiesSchema,
  runnerPaths,
} from './runner-protocol.js';
export { predictPositive, type SparseLogisticModel } from './sparse-linear.js';
export {
  applyResumes,
  DEFAULT_THRESHOLDS,
  type DecisionOutput,
  pendingResumes,
  type Resume,
  resolveDecisionReview,
  setDecisionPolicy,
  settleRequests,
  thresholdsFor,
} from './store/decisions.js';
export {
  type CreateDeploymentInput,
  checkCanaries,
  createDeployment,
  DEFAULT_ROLLBACK,
  type DeploymentRow,
  getDeployment,
  listDeployments,
  promoteDeployment,
  rollbackDeployment,
} from './store/deployments.js';
export {
  createDecisionExecutor,
  type InferInput,
  type InferResult,
  inferSync,
  toInferenceInput,
} from './store/dispatch.js';
export {
  type CreateRunnerPoolInput,
  createRunnerPool,
  getRunnerPool,
  HEARTBEAT_INTERVAL_MS,
  hashPoolToken,
  listRunnerPools,
  newPoolToken,
  type PoolIdentity,
  RUNNER_STALE_AFTER_MS,
  type RunnerPoolRow,
  resolvePoolToken,
} from './store/pools.js';
export { type RequestState, requestState, type SettledRequest } from './store/queue.js';
export {
  getModel,
  getModelVersion,
  listModels,
  listModelVersions,
  MAX_MODEL_BYTES,
  type ModelRow,
  type ModelVersionRow,
  type RegisterModelVersionInput,
  registerModelVersion,
} from './store/registry.js';
export {
  createRunnerService,
  MAX_CLAIM_WAIT_MS,
  type RunnerService,
  type RunnerServiceOptions,
} from './store/runner-service.js';
export { type EnsureServingInput, ensureModelServing, type Serving } from './store/seed.js';
export { shadowComparison } from './store/shadow-report.js';
