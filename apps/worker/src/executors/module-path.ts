import { fileURLToPath } from 'node:url';

/** The executorModule `roster up` passes to startWorkers: marketplace connectors in the sandbox. */
export const ROSTER_EXECUTORS_MODULE = fileURLToPath(
  new URL('./roster-executors.ts', import.meta.url),
);
