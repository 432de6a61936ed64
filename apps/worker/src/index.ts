export { ROSTER_EXECUTORS_MODULE } from './executors/module-path.js';
export { beat, sweepDeadPools, unlockPools } from './heartbeat.js';
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  deliverEmail,
  type EmailRunInput,
  type InboundEmail,
  type InboundEmailOptions,
  startInboundEmail,
} from './inbound-email.js';
export { type StartWorkersOptions, startWorkers, type Workers } from './supervisor.js';
export { type RunningWorkerPool, runWorkerPool, type WorkerPoolOptions } from './worker-pool.js';
export type { WorkerProcessOptions } from './worker-process.js';
