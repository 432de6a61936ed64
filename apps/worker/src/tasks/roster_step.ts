import { parseStepJob, type StepJob, type StepRunResult } from '@roster/engine';
import type { Task } from 'graphile-worker';

/**
 * `roster_step`: runs one step of a run (payload: ids only, see StepJob). The job's id goes to
 * the step's transition, which completes the job in the same commit.
 */
export function rosterStep(
  runStep: (job: StepJob, jobId?: string) => Promise<StepRunResult>,
): Task {
  return async (payload, helpers) => {
    const job = parseStepJob(payload);
    await runStep(job, helpers.job.id);
  };
}
