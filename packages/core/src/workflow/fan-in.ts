import { CoreError } from '../errors.js';
import type { MapPlan, ParallelPlan } from './planner.js';

/**
 * Bookkeeping for the join of a parallel step and the fan-in of a map step, as immutable values
 * the engine persists between jobs. Outcomes delivered twice (at-least-once queues) or after the
 * step settled come back as `ignored`, so replays are harmless.
 */

export type BranchOutcome = { status: 'succeeded' } | { status: 'failed'; errorCode: string };

export interface JoinState {
  stepId: string;
  join: 'all' | 'any';
  /** Branches still running, in definition order. */
  pending: string[];
  succeeded: string[];
  failed: Array<{ branch: string; errorCode: string }>;
  settled: boolean;
}

export type JoinDecision =
  | { kind: 'wait' }
  /** The parallel step succeeded; cancel the branches still running. */
  | { kind: 'proceed'; cancel: string[] }
  /** The parallel step failed with this code (the deciding branch's). */
  | { kind: 'fail'; errorCode: string; cancel: string[] }
  | { kind: 'ignored' };

export function createJoinState(plan: ParallelPlan): JoinState {
  return {
    stepId: plan.stepId,
    join: plan.join,
    pending: plan.branches.map((b) => b.name),
    succeeded: [],
    failed: [],
    settled: false,
  };
}

/**
 * Records a branch's end. `all` proceeds when every branch succeeded and fails on the first
 * failure; `any` proceeds on the first success and fails when every branch failed.
 */
export function recordBranchOutcome(
  state: JoinState,
  branch: string,
  outcome: BranchOutcome,
): { state: JoinState; decision: JoinDecision } {
  if (state.settled || !state.pending.includes(branch)) {
    if (
      !state.settled &&
      !state.succeeded.includes(branch) &&
      !state.failed.some((f) => f.branch === branch)
    ) {
      throw new CoreError(
        'INVALID_OUTCOME',
        `Parallel "${state.stepId}" has no branch "${branch}"`,
        {
          stepId: state.stepId,
          branch,
        },
      );
    }
    return { state, decision: { kind: 'ignored' } };
  }
  const pending = state.pending.filter((b) => b !== branch);
  const next: JoinState =
    outcome.status === 'succeeded'
      ? { ...state, pending, succeeded: [...state.succeeded, branch] }
      : { ...state, pending, failed: [...state.failed, { branch, errorCode: outcome.errorCode }] };
  const settle = (decision: JoinDecision) => ({ state: { ...next, settled: true }, decision });
  if (state.join === 'all') {
    if (outcome.status === 'failed')
      return settle({ kind: 'fail', errorCode: outcome.errorCode, cancel: pending });
    return pending.length === 0
      ? settle({ kind: 'proceed', cancel: [] })
      : { state: next, decision: { kind: 'wait' } };
  }
  if (outcome.status === 'succeeded') return settle({ kind: 'proceed', cancel: pending });
  return pending.length === 0
    ? settle({ kind: 'fail', errorCode: outcome.errorCode, cancel: [] })
    : { state: next, decision: { kind: 'wait' } };
}

export interface MapState {
  stepId: string;
  total: number;
  concurrency: number;
  toleratedFailures: number;
  /** Index of the next item not yet started. */
  nextIndex: number;
  running: number[];
  succeeded: number[];
  failed: Array<{ index: number; errorCode: string }>;
  settled: boolean;
}

export type MapDecision =
  /** Start these iterations now (possibly none while others run). */
  | { kind: 'continue'; start: number[] }
  /** Every iteration ended and failures stayed within toleratedFailures. */
  | { kind: 'proceed' }
  /** More than toleratedFailures iterations failed; code of the failure that tipped it. */
  | { kind: 'fail'; errorCode: string; cancel: number[] }
  | { kind: 'ignored' };

/** The first wave: up to `concurrency` iterations; an empty list proceeds at once. */
export function createMapState(plan: MapPlan): { state: MapState; decision: MapDecision } {
  const state: MapState = {
    stepId: plan.stepId,
    total: plan.items.length,
    concurrency: plan.concurrency,
    toleratedFailures: plan.toleratedFailures,
    nextIndex: 0,
    running: [],
    succeeded: [],
    failed: [],
    settled: false,
  };
  if (state.total === 0)
    return { state: { ...state, settled: true }, decision: { kind: 'proceed' } };
  return fill(state);
}

function fill(state: MapState): { state: MapState; decision: MapDecision } {
  const free = Math.max(0, state.concurrency - state.running.length);
  const count = Math.min(free, state.total - state.nextIndex);
  const start = Array.from({ length: count }, (_, i) => state.nextIndex + i);
  return {
    state: { ...state, nextIndex: state.nextIndex + count, running: [...state.running, ...start] },
    decision: { kind: 'continue', start },
  };
}

/** Records an iteration's end and says which iterations to start next, or how the map ends. */
export function recordIterationOutcome(
  state: MapState,
  index: number,
  outcome: BranchOutcome,
): { state: MapState; decision: MapDecision } {
  if (state.settled || !state.running.includes(index)) {
    if (!Number.isInteger(index) || index < 0 || index >= state.total || index >= state.nextIndex) {
      throw new CoreError(
        'INVALID_OUTCOME',
        `Map "${state.stepId}" has not started iteration ${index} (started: 0..${state.nextIndex - 1})`,
        { stepId: state.stepId, index },
      );
    }
    return { state, decision: { kind: 'ignored' } };
  }
  const running = state.running.filter((i) => i !== index);
  const next: MapState =
    outcome.status === 'succeeded'
      ? { ...state, running, succeeded: [...state.succeeded, index] }
      : { ...state, running, failed: [...state.failed, { index, errorCode: outcome.errorCode }] };
  if (outcome.status === 'failed' && next.failed.length > state.toleratedFailures) {
    return {
      state: { ...next, settled: true },
      decision: { kind: 'fail', errorCode: outcome.errorCode, cancel: running },
    };
  }
  if (next.nextIndex >= next.total && running.length === 0) {
    return { state: { ...next, settled: true }, decision: { kind: 'proceed' } };
  }
  return fill(next);
}
