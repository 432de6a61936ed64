import { parseStepJob, type StepJob, type StepRunResult } from '@roster/engine';
import type { Task } from 'graphile-worker';

/** `roster_step`: runs one step of a run (payload: ids only, see StepJob). */
export function rosterStep(runStep: (job: StepJob) => Promise<StepRunResult>): Task {
  return async (payload) => {
    const job = parseStepJob(payload);
    await runStep(job);
  };
}
