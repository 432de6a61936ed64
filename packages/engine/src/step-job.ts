import { EngineError } from './errors.js';

/** The task every step job runs (one graphile-worker task for all steps). */
export const STEP_TASK = 'roster_step';

/**
 * A step job's payload: ids only, never tenant data (job rows are visible to every worker).
 * `k` marks the timer jobs of a waiting step: `resume` (a wait elapsed) or `timeout` (a person
 * or an event did not answer within the step's timeout).
 */
export interface StepJob {
  /** Tenant id. */
  t: string;
  /** Run id. */
  r: string;
  /** Workflow id and version (so the definition comes from the cache). */
  w: string;
  v: number;
  /** Step id; absent for a run's first step. */
  s?: string;
  /** Attempt of the step, from 1. */
  a: number;
  /** Run generation (bumped by replayStep / retryRun). */
  g: number;
  /** `child`: the child run of a waiting callWorkflow step ended (sent by the runs_ended trigger). */
  k?: 'resume' | 'timeout' | 'child';
  /** Iteration path inside map steps (outer to inner), absent at the top level and in branches. */
  i?: number[];
  /**
   * graphile-worker priority of the run's jobs (lower runs first): how many runs the tenant had
   * running when this run was admitted, so a quiet tenant's runs overtake a busy tenant's.
   */
  p?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseStepJob(payload: unknown): StepJob {
  const p = (payload ?? {}) as Record<string, unknown>;
  const ok =
    typeof p.t === 'string' &&
    UUID.test(p.t) &&
    typeof p.r === 'string' &&
    UUID.test(p.r) &&
    typeof p.w === 'string' &&
    UUID.test(p.w) &&
    Number.isInteger(p.v) &&
    (p.s === undefined || p.s === null || typeof p.s === 'string') &&
    Number.isInteger(p.a) &&
    Number.isInteger(p.g) &&
    (p.k === undefined || p.k === 'resume' || p.k === 'timeout' || p.k === 'child') &&
    (p.i === undefined ||
      (Array.isArray(p.i) && p.i.every((n) => Number.isInteger(n) && (n as number) >= 0))) &&
    (p.p === undefined || Number.isInteger(p.p));
  if (!ok) {
    throw new EngineError(
      'BAD_USER_INPUT',
      `Not a ${STEP_TASK} payload: ${JSON.stringify(payload).slice(0, 200)}. Enqueue step jobs only through the engine.`,
    );
  }
  const job: StepJob = {
    t: p.t as string,
    r: p.r as string,
    w: p.w as string,
    v: p.v as number,
    a: p.a as number,
    g: p.g as number,
  };
  if (typeof p.s === 'string') job.s = p.s;
  if (p.k !== undefined) job.k = p.k as StepJob['k'];
  if (typeof p.p === 'number') job.p = p.p;
  if (Array.isArray(p.i) && p.i.length > 0) job.i = p.i as number[];
  return job;
}

/**
 * The stable idempotency key of a step's side effect: the same for every attempt and replay.
 * Inside a map iteration pass the step's row key (`<step>@<path>`), so iterations differ.
 */
export function stepIdempotencyKey(runId: string, stepId: string): string {
  return `${runId}/${stepId}`;
}

/**
 * The task of a start batch: the first steps of several runs started together whose workflow
 * starts with a pure step (see startsPure), run by one job and committed together.
 */
export const START_BATCH_TASK = 'roster_steps';

/**
 * A start batch job's payload: the tenant, the runs' priority (as StepJob's `p`) and, per run,
 * its id, workflow, version and generation. Ids only, as for every job.
 */
export interface StartBatchJob {
  t: string;
  p?: number;
  runs: Array<{ r: string; w: string; v: number; g: number }>;
}

/** The first-step jobs a start batch stands for, or BAD_USER_INPUT when it is not one. */
export function parseStartBatch(payload: unknown): StepJob[] {
  const p = (payload ?? {}) as Record<string, unknown>;
  const runs = Array.isArray(p.runs) ? (p.runs as Array<Record<string, unknown>>) : undefined;
  const ok =
    typeof p.t === 'string' &&
    UUID.test(p.t) &&
    (p.p === undefined || Number.isInteger(p.p)) &&
    runs !== undefined &&
    runs.length > 0 &&
    runs.every(
      (run) =>
        typeof run === 'object' &&
        run !== null &&
        typeof run.r === 'string' &&
        UUID.test(run.r) &&
        typeof run.w === 'string' &&
        UUID.test(run.w) &&
        Number.isInteger(run.v) &&
        Number.isInteger(run.g),
    );
  if (!ok) {
    throw new EngineError(
      'BAD_USER_INPUT',
      `Not a ${START_BATCH_TASK} payload: ${JSON.stringify(payload).slice(0, 200)}. Enqueue start batches only through the engine.`,
    );
  }
  return (runs as StartBatchJob['runs']).map((run) => {
    const job: StepJob = { t: p.t as string, r: run.r, w: run.w, v: run.v, a: 1, g: run.g };
    if (typeof p.p === 'number') job.p = p.p;
    return job;
  });
}
