export {
  CALLBACK_BACKOFF_MS,
  CALLBACK_TASK,
  type CallbackAttemptOutcome,
  type CallbackAttemptView,
  type CallbackDeliveryView,
  type CallbackJob,
  checkCallbackUrl,
  getWorkflowCallback,
  listCallbackDeliveries,
  type PendingDelivery,
  parseCallbackJob,
  pendingDelivery,
  recordCallbackAttempt,
  removeWorkflowCallback,
  setWorkflowCallback,
  type WorkflowCallbackView,
} from './callbacks.js';
export { DefinitionCache } from './definitions.js';
export {
  DEFAULT_MAX_RUNS_PER_TENANT,
  type EngineOptions,
  JOB_MAX_ATTEMPTS,
  MAX_RUNS_PER_CALL,
} from './engine-options.js';
export { EngineError, type EngineErrorCode, StepFailure, WorkerStopping } from './errors.js';
export {
  type ConnectorExecutor,
  type DecisionExecutor,
  type ExecutorCall,
  ExecutorRegistry,
  type ExecutorResult,
} from './executors.js';
export {
  InFlightCalls,
  parseRunStop,
  RUN_STOPPED_CHANNEL,
  type RunStop,
} from './in-flight-calls.js';
export { canonicalJson, inputHash } from './input-hash.js';
export { quietLogger } from './quiet-logger.js';
export { rerunWaitingStep } from './rerun-waiting-step.js';
export {
  cancelRun,
  completeReviewTask,
  type RestartResult,
  replayStep,
  resumeStep,
  retryRun,
} from './run-control.js';
export {
  type RunInitiator,
  type RunInitiatorKind,
  type RunInitiatorView,
  runInitiator,
} from './run-initiator.js';
export { getRunLinks, type RunLinks } from './run-links.js';
export {
  concurrencyKeyValue,
  type DeadLetter,
  getRun,
  listDeadLetters,
  type QueueReason,
  queueReason,
  type RunView,
  type StepTimelineEntry,
  type TimelineEntryKind,
} from './run-presenter.js';
export { markStepRunning, type RunningStep, SHOW_RUNNING_AFTER_MS } from './running-step.js';
export {
  SCHEDULES_CRONTAB,
  SCHEDULES_TICK_TASK,
  type TickResult,
  tickSchedules,
} from './schedule-tick.js';
export {
  type CreateScheduleInput,
  createSchedule,
  deleteSchedule,
  getSchedule,
  nextFireAt,
  SCHEDULE_COLUMNS,
  type ScheduleView,
  type UpdateScheduleInput,
  updateSchedule,
} from './schedules.js';
export {
  type StartedRun,
  type StartRunInput,
  startRun,
  startRuns,
  startRunsInTransaction,
} from './start-run.js';
export {
  parseStartBatch,
  parseStepJob,
  START_BATCH_TASK,
  STEP_TASK,
  type StartBatchJob,
  type StepJob,
  stepIdempotencyKey,
} from './step-job.js';
export {
  createStepRunner,
  type StepRunner,
  type StepRunnerDeps,
  type StepRunResult,
} from './step-runner.js';
export { sweepAdmissions, sweepDeadlines } from './sweeps.js';
export type { TransitionResult } from './transition.js';
export { TRANSITION_LANES } from './transition-batch.js';
export {
  generateSigningSecret,
  signWebhook,
  verifyWebhook,
  WEBHOOK_TOLERANCE_SECONDS,
  type WebhookHeaders,
} from './webhook-signature.js';
export {
  createWebhookTrigger,
  deleteWebhookTrigger,
  getWebhookTrigger,
  type InboundWebhook,
  receiveWebhook,
  type WebhookTriggerView,
} from './webhook-triggers.js';
export { installWorkerSchema } from './worker-schema.js';
