import {
  parseStartBatch,
  parseStepJob,
  START_BATCH_TASK,
  STEP_TASK,
  type StepRunner,
} from '@roster/engine';
import type { TaskList } from 'graphile-worker';

/**
 * The engine's tasks:
 * - `roster_step` runs one step of a run (payload: ids only, see StepJob). The job's id goes to
 *   the step's transition, which completes the job in the same commit.
 * - `roster_steps` runs the first steps of the runs of a start batch (see StartBatchJob). The
 *   job completes once all of their transitions have committed, as graphile-worker completes a
 *   job whose task resolved; run again, it finds them recorded and changes nothing.
 */
export function stepTasks(runner: StepRunner): TaskList {
  return {
    [STEP_TASK]: async (payload, helpers) => {
      await runner.run(parseStepJob(payload), helpers.job.id);
    },
    [START_BATCH_TASK]: async (payload) => {
      await runner.runStarts(parseStartBatch(payload));
    },
  };
}
