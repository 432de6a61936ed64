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
