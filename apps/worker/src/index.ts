export { ROSTER_EXECUTORS_MODULE } from './executors/module-path.js';
export { beat, sweepDeadPools, unlockPools } from './heartbeat.js';
export { type StartWorkersOptions, startWorkers, type Workers } from './supervisor.js';
export { type RunningWorkerPool, runWorkerPool, type WorkerPoolOptions } from './worker-pool.js';
export type { WorkerProcessOptions } from './worker-process.js';
