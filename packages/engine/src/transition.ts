import { parseDuration } from '@roster/core';
import type { Pool } from '@roster/db';
import type { RunContext } from './run-context.js';
import { STEP_TASK, type StepJob } from './step-job.js';

export interface JobSpec {
  identifier: string;
  payload: unknown;
  /** ISO time; default now. */
  runAt?: string;
  /** Replaces a pending job with the same key (timer jobs of waiting steps). */
  jobKey?: string;
  /** graphile-worker priority (lower first); the run's, see StepJob.p. */
  priority?: number;
}

/** Arguments of roster_engine_transition (db/migrations): one step transition, one statement. */
export interface TransitionSpec {
  tenant: string;
  run: string;
  step?: string;
  attempt: number;
  generation: number;
  stepStatus?: 'running' | 'retrying' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';
  output?: unknown;
  error?: { code: string; message: string };
  attemptError?: { attempt: number; code: string; message: string; at: string };
  wakeAt?: string;
  runStatus?: 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled' | 'dead_lettered';
  runOutput?: unknown;
  runError?: { code: string; message: string };
  failedStep?: string;
  jobs?: JobSpec[];
  audit?: Array<{ kind: string; data?: Record<string, unknown> }>;
  review?: {
    kind: 'review' | 'approval';
    title: string;
    data?: unknown;
    labels?: string[];
    role?: string;
    dueAt: string;
  };
  closeReview?: 'resolved' | 'expired' | 'cancelled';
  /** Apply only while the step is waiting (timer jobs and events resuming it). */
  expectWaiting?: true;
  /**
   * NOTIFY workers of the jobs this transition makes runnable. Workers leave it off and wake
   * their own queue after commit: notifying transactions commit one at a time in Postgres.
   */
  notify?: true;
  /** graphile-worker id of the job that ran this step: completed in the same commit. */
  job?: string;
  /**
   * The next step's job, to be run by this worker in the same task: inserted locked by the
   * pool `lockFor`; the result is then `applied:<job id>`.
   */
  inlineJob?: JobSpec;
  lockFor?: string;
  /** With inlineJob: return the run's context (`steps`: with step outputs) for that next step. */
  inlineContext?: 'run' | 'steps';
  /**
   * In a chain (TransitionBatcher.applyChain): applies only if the transition before it in the
   * statement applied. That one hands it no job: both commit in the same transaction.
   */
  after?: true;
}

export type TransitionResult = 'applied' | 'duplicate' | 'stale' | 'missing' | 'deadline';

const TRANSITION_SQL = 'SELECT roster_engine_transition($1::jsonb) AS result';

/**
 * What roster_engine_transition returned: the outcome, the inline job it locked if any, and the
 * run's context for that job when asked (`applied:<job id>[:<context json>]`).
 */
export function parseTransitionResult(raw: string | undefined): {
  result: TransitionResult;
  inlineJobId?: string;
  inlineContext?: RunContext;
} {
  if (!raw?.startsWith('applied:'))
    return { result: (raw as TransitionResult | undefined) ?? 'missing' };
  const rest = raw.slice(8);
  const colon = rest.indexOf(':');
  if (colon < 0) return { result: 'applied', inlineJobId: rest };
  const context = JSON.parse(rest.slice(colon + 1)) as RunContext | null;
  return {
    result: 'applied',
    inlineJobId: rest.slice(0, colon),
    ...(context ? { inlineContext: context } : {}),
  };
}

/**
 * A spec as roster_engine_transition(s) take it: without an attempt of 1 or a generation of 0,
 * which they read when these are absent. Postgres parses every byte of a statement's specs, and
 * most specs are of a first attempt in a run's first generation. With the run's end audited
 * without an empty data object (step-plans.ts), a hundred one-step runs' specs went from 31.2 to
 * 27.5 kB, and their statement took about 3% less time (decision 0005, thirteenth session).
 */
export function wireSpec(spec: TransitionSpec): Partial<TransitionSpec> {
  if (spec.attempt !== 1 && spec.generation !== 0) return spec;
  const { attempt, generation, ...rest } = spec;
  const wire: Partial<TransitionSpec> = rest;
  if (attempt !== 1) wire.attempt = attempt;
  if (generation !== 0) wire.generation = generation;
  return wire;
}

/** Runs one transition: its own transaction (a single statement), a prepared statement. */
export async function transitionRaw(pool: Pool, spec: TransitionSpec): Promise<string> {
  const { rows } = await pool.query<{ result: string }>({
    name: 'roster_engine_transition',
    text: TRANSITION_SQL,
    values: [JSON.stringify(wireSpec(spec))],
  });
  return rows[0]?.result ?? 'missing';
}

export async function transition(pool: Pool, spec: TransitionSpec): Promise<TransitionResult> {
  return parseTransitionResult(await transitionRaw(pool, spec)).result;
}

/**
 * Jobs a committed transition made runnable now: its successors without a delay, plus one for
 * the queued run that may have been admitted into the slot it freed.
 */
export function runnableJobs(spec: TransitionSpec): number {
  const now = Date.now();
  const ready = (spec.jobs ?? []).filter(
    (j) => j.runAt === undefined || Date.parse(j.runAt) <= now,
  ).length;
  const freesSlot = spec.runStatus !== undefined && spec.runStatus !== 'running';
  return ready + (freesSlot ? 1 : 0);
}

/** The job that runs `stepId` (or the run's first step when undefined). */
export function stepJob(
  base: Pick<StepJob, 't' | 'r' | 'w' | 'v' | 'g' | 'p' | 'i'>,
  stepId: string | undefined,
  attempt: number,
  extra: { runAt?: Date; kind?: StepJob['k']; jobKey?: string } = {},
): JobSpec {
  const payload: StepJob = { t: base.t, r: base.r, w: base.w, v: base.v, g: base.g, a: attempt };
  if (stepId !== undefined) payload.s = stepId;
  if (base.i !== undefined && base.i.length > 0) payload.i = base.i;
  if (extra.kind) payload.k = extra.kind;
  const spec: JobSpec = { identifier: STEP_TASK, payload };
  if (base.p !== undefined) {
    payload.p = base.p;
    spec.priority = base.p;
  }
  if (extra.runAt) spec.runAt = extra.runAt.toISOString();
  if (extra.jobKey) spec.jobKey = extra.jobKey;
  return spec;
}

/** Job key of a waiting step's timer, so a replay replaces rather than duplicates it. */
export function timerKey(runId: string, stepId: string): string {
  return `roster:timer:${runId}:${stepId}`;
}

/**
 * The timer of a step that declared a `timeout` while it waits (a fan-out, a child run): the job
 * that times it out and when it fires. Nothing when no timeout is declared.
 */
export function declaredTimeout(
  job: Pick<StepJob, 't' | 'r' | 'w' | 'v' | 'g' | 'p' | 'i' | 'a'>,
  stepId: string,
  key: string,
  timeout: string | undefined,
): { wakeAt?: string; jobs: JobSpec[] } {
  if (!timeout) return { jobs: [] };
  const at = new Date(Date.now() + parseDuration(timeout));
  return {
    wakeAt: at.toISOString(),
    jobs: [
      stepJob(job, stepId, job.a, { runAt: at, kind: 'timeout', jobKey: timerKey(job.r, key) }),
    ],
  };
}
