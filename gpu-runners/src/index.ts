export {
  type BatcherStats,
  DynamicBatcher,
  type DynamicBatcherOptions,
} from './dynamic-batcher.js';
export { RunnerError, type RunnerErrorCode } from './errors.js';
export {
  type ProviderAttempt,
  type ProviderChoice,
  providerAttempts,
  providerUnavailableError,
} from './providers.js';
export {
  type Feeds,
  SessionPool,
  type SessionPoolOptions,
  type TensorData,
} from './session-pool.js';
