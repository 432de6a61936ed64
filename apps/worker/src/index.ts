export type { ExecutorModuleDeps, WorkerExecutors } from './executors/executor-module.js';
export { ROSTER_EXECUTORS_MODULE } from './executors/module-path.js';
export {
  type PersonalDataExecutorOptions,
  sealingEngineOptions,
  withPersonalData,
} from './executors/personal-data-executors.js';
export { beat, sweepDeadPools, unlockPools } from './heartbeat.js';
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  deliverEmail,
  type EmailRunInput,
  type InboundEmail,
  type InboundEmailOptions,
  startInboundEmail,
} from './inbound-email.js';
export { RETENTION_CRONTAB, RETENTION_TASK, retentionTasks } from './retention-tasks.js';
export { type StartWorkersOptions, startWorkers, type Workers } from './supervisor.js';
export type { RetentionTaskOptions } from './tasks/roster_retention_sweep.js';
export { type RunningWorkerPool, runWorkerPool, type WorkerPoolOptions } from './worker-pool.js';
export type { WorkerProcessOptions } from './worker-process.js';
