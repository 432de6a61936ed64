import { type CallbackJob, parseCallbackJob } from '@roster/engine';
import type { Task } from 'graphile-worker';

/** `roster_callback_deliver`: one attempt of a run-end callback (payload: ids only). */
export function rosterCallbackDeliver(deliver: (job: CallbackJob) => Promise<unknown>): Task {
  return async (payload) => {
    await deliver(parseCallbackJob(payload));
  };
}
