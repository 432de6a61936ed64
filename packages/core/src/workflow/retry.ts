import { CoreError } from '../errors.js';
import { parseDuration } from './duration.js';
import { getStep } from './planner.js';
import type { RetryPolicy, StepType, WorkflowDefinition } from './schema.js';

/** A retry policy with every default filled in and durations in milliseconds. */
export interface ResolvedRetryPolicy {
  maxAttempts: number;
  initialMs: number;
  maxMs: number;
  multiplier: number;
  jitter: 'full' | 'none';
  retryable?: string[];
  fatal: string[];
}

export interface StepPolicy {
  timeoutMs: number;
  retry: ResolvedRetryPolicy;
}

export const DEFAULT_RUN_DEADLINE = '7d';
/** Machine steps. */
export const DEFAULT_STEP_TIMEOUT = '5m';
/** Steps that wait for people (review, approval): the SLA before the step times out. */
export const DEFAULT_HUMAN_STEP_TIMEOUT = '3d';
export const DEFAULT_RETRY = {
  maxAttempts: 3,
  initial: '1s',
  max: '1m',
  multiplier: 2,
  jitter: 'full',
} as const;

/**
 * Steps whose failures are deterministic (expressions) or that wait on people are attempted
 * once unless their own retry says otherwise; workflow defaults apply only to the others.
 */
const SINGLE_ATTEMPT: ReadonlySet<StepType> = new Set([
  'review',
  'approval',
  'condition',
  'transform',
  'wait',
  'succeed',
  'fail',
  'parallel',
  'map',
]);

export function runDeadlineMs(definition: WorkflowDefinition): number {
  return parseDuration(definition.deadline ?? DEFAULT_RUN_DEADLINE);
}

/** Resolves a step's timeout and retry policy: step fields, then workflow defaults, then built-ins. */
export function resolveStepPolicy(definition: WorkflowDefinition, stepId: string): StepPolicy {
  const { step: found } = getStep(definition, stepId);
  const step: { type: StepType; timeout?: string; retry?: RetryPolicy } = found;
  const human = step.type === 'review' || step.type === 'approval';
  const inherited = SINGLE_ATTEMPT.has(step.type) ? undefined : definition.defaults?.retry;
  const own = step.retry;
  const backoff = { ...inherited?.backoff, ...own?.backoff };
  const fallbackAttempts = SINGLE_ATTEMPT.has(step.type) ? 1 : DEFAULT_RETRY.maxAttempts;
  const retryable = own?.retryable ?? inherited?.retryable;
  return {
    // A person's SLA is not a machine timeout: human steps ignore defaults.timeout.
    timeoutMs: parseDuration(
      step.timeout ??
        (human
          ? DEFAULT_HUMAN_STEP_TIMEOUT
          : (definition.defaults?.timeout ?? DEFAULT_STEP_TIMEOUT)),
    ),
    retry: {
      maxAttempts: own?.maxAttempts ?? inherited?.maxAttempts ?? fallbackAttempts,
      initialMs: parseDuration(backoff.initial ?? DEFAULT_RETRY.initial),
      maxMs: parseDuration(backoff.max ?? DEFAULT_RETRY.max),
      multiplier: backoff.multiplier ?? DEFAULT_RETRY.multiplier,
      jitter: backoff.jitter ?? DEFAULT_RETRY.jitter,
      ...(retryable ? { retryable } : {}),
      fatal: own?.fatal ?? inherited?.fatal ?? [],
    },
  };
}

/** A source of uniform numbers in [0, 1); pass a seeded one for reproducible delays. */
export type RandomSource = () => number;

/**
 * Delay in ms before the attempt after `attempt` (1-based: attempt 1 just failed).
 * Exponential: cap = min(maxMs, initialMs * multiplier^(attempt-1)); with full jitter the delay
 * is uniform in [0, cap) (AWS "full jitter", which spreads retries of many runs apart).
 */
export function computeBackoff(
  policy: Pick<ResolvedRetryPolicy, 'initialMs' | 'maxMs' | 'multiplier' | 'jitter'>,
  attempt: number,
  random: RandomSource,
): number {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new CoreError(
      'INVALID_OUTCOME',
      `attempt must be a whole number from 1, got ${attempt}`,
      {
        attempt,
      },
    );
  }
  const cap = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** (attempt - 1));
  if (policy.jitter === 'none') return Math.floor(cap);
  const r = random();
  if (!(r >= 0 && r < 1)) {
    throw new CoreError(
      'INVALID_OUTCOME',
      `The random source returned ${r}; it must return numbers in [0, 1) like Math.random`,
      { value: r },
    );
  }
  return Math.floor(r * cap);
}

export type RetryDecision =
  | { retry: true; delayMs: number; nextAttempt: number }
  | { retry: false; reason: 'FATAL' | 'NOT_RETRYABLE' | 'ATTEMPTS_EXHAUSTED' };

/** Whether a failed attempt is tried again, and after how long. */
export function decideRetry(
  policy: ResolvedRetryPolicy,
  failure: { attempt: number; errorCode: string },
  random: RandomSource,
): RetryDecision {
  if (policy.fatal.includes(failure.errorCode)) return { retry: false, reason: 'FATAL' };
  if (policy.retryable && !policy.retryable.includes(failure.errorCode)) {
    return { retry: false, reason: 'NOT_RETRYABLE' };
  }
  if (failure.attempt >= policy.maxAttempts) return { retry: false, reason: 'ATTEMPTS_EXHAUSTED' };
  return {
    retry: true,
    delayMs: computeBackoff(policy, failure.attempt, random),
    nextAttempt: failure.attempt + 1,
  };
}
