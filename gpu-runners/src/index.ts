export { parseRunnerArgs, type RunnerConfig, runnerConfigSchema } from './config.js';
export {
  DEMO_MODEL_FILE,
  DEMO_MODEL_NAME,
  DEMO_POOL_NAME,
  type DemoModel,
  loadDemoModel,
  seedDemoInference,
  startDemoRunner,
} from './demo.js';
export {
  type BatcherStats,
  DynamicBatcher,
  type DynamicBatcherOptions,
} from './dynamic-batcher.js';
export { RunnerError, type RunnerErrorCode } from './errors.js';
export { codecFor, type RowCodec, splitScores } from './model-input.js';
export { ModelServer, type ModelServerOptions, type ScoredItem } from './model-server.js';
export {
  type ProviderAttempt,
  type ProviderChoice,
  providerAttempts,
  providerUnavailableError,
} from './providers.js';
export { Runner, type RunnerOptions } from './runner.js';
export { RunnerClient, type RunnerClientOptions } from './runner-client.js';
export {
  type Feeds,
  SessionPool,
  type SessionPoolOptions,
  type TensorData,
} from './session-pool.js';
