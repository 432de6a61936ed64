export { DefinitionCache } from './definitions.js';
export {
  DEFAULT_MAX_RUNS_PER_TENANT,
  type EngineOptions,
  JOB_MAX_ATTEMPTS,
  MAX_RUNS_PER_CALL,
} from './engine-options.js';
export { EngineError, type EngineErrorCode, StepFailure } from './errors.js';
export {
  type ConnectorExecutor,
  type DecisionExecutor,
  type ExecutorCall,
  ExecutorRegistry,
  type ExecutorResult,
} from './executors.js';
export { canonicalJson, inputHash } from './input-hash.js';
export { quietLogger } from './quiet-logger.js';
export {
  cancelRun,
  completeReviewTask,
  replayStep,
  resumeStep,
  retryRun,
} from './run-control.js';
export {
  type DeadLetter,
  getRun,
  listDeadLetters,
  type RunView,
  type StepTimelineEntry,
} from './run-presenter.js';
export { type StartedRun, type StartRunInput, startRun, startRuns } from './start-run.js';
export { parseStepJob, STEP_TASK, type StepJob, stepIdempotencyKey } from './step-job.js';
export { createStepRunner, type StepRunnerDeps, type StepRunResult } from './step-runner.js';
export { sweepAdmissions, sweepDeadlines } from './sweeps.js';
export type { TransitionResult } from './transition.js';
export { installWorkerSchema } from './worker-schema.js';
