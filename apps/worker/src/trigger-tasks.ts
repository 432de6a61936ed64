import type { Pool } from '@roster/db';
import {
  CALLBACK_TASK,
  type EngineOptions,
  SCHEDULES_CRONTAB,
  SCHEDULES_TICK_TASK,
} from '@roster/engine';
import type { TaskList } from 'graphile-worker';
import { type CallbackEgressOptions, createCallbackDeliverer } from './callback-delivery.js';
import { rosterCallbackDeliver } from './tasks/roster_callback_deliver.js';
import { rosterSchedulesTick } from './tasks/roster_schedules_tick.js';

/** The crontab a worker pool runs: the once-a-minute schedule tick. */
export const TRIGGER_CRONTAB = SCHEDULES_CRONTAB;

/** The tasks behind triggers and callbacks: the schedule tick and callback deliveries. */
export function triggerTasks(
  pool: Pool,
  options: EngineOptions & { callbacks?: CallbackEgressOptions } = {},
): TaskList {
  const { callbacks, ...engine } = options;
  return {
    [SCHEDULES_TICK_TASK]: rosterSchedulesTick(pool, engine),
    [CALLBACK_TASK]: rosterCallbackDeliver(createCallbackDeliverer(pool, callbacks)),
  };
}
