import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';
import {
  computeBackoff,
  decideRetry,
  type ResolvedRetryPolicy,
  resolveStepPolicy,
  runDeadlineMs,
} from './retry.js';
import { validateWorkflowDefinition } from './validate.js';

/** A small seeded generator (mulberry32) so tests can replay the same "random" sequence. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const policy: ResolvedRetryPolicy = {
  maxAttempts: 5,
  initialMs: 100,
  maxMs: 1000,
  multiplier: 2,
  jitter: 'full',
  fatal: ['BAD_USER_INPUT'],
};

describe('parseDuration', () => {
  it('reads compound durations', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2d')).toBe(172_800_000);
  });
  it('rejects other forms with a fix', () => {
    expect(() => parseDuration('30 seconds')).toThrow(/write it like 250ms/);
    expect(() => parseDuration('')).toThrow();
    expect(() => parseDuration('5m1h')).toThrow();
  });
});

describe('computeBackoff', () => {
  it('is deterministic for the same random source', () => {
    const a = [1, 2, 3, 4, 5].map((n) => computeBackoff(policy, n, seeded(7)));
    const b = [1, 2, 3, 4, 5].map((n) => computeBackoff(policy, n, seeded(7)));
    expect(a).toEqual(b);
  });

  it('stays within [0, min(max, initial * multiplier^(n-1))) for many draws', () => {
    const random = seeded(42);
    for (let attempt = 1; attempt <= 12; attempt++) {
      const cap = Math.min(1000, 100 * 2 ** (attempt - 1));
      for (let i = 0; i < 200; i++) {
        const delay = computeBackoff(policy, attempt, random);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(cap);
      }
    }
  });

  it('spreads delays across the whole range (full jitter)', () => {
    const random = seeded(1);
    const delays = Array.from({ length: 500 }, () => computeBackoff(policy, 10, random));
    expect(Math.min(...delays)).toBeLessThan(100);
    expect(Math.max(...delays)).toBeGreaterThan(900);
  });

  it('grows exponentially to the cap without jitter', () => {
    const exact = { ...policy, jitter: 'none' as const };
    expect([1, 2, 3, 4, 5, 6].map((n) => computeBackoff(exact, n, () => 0.5))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('maps the random source linearly onto the cap', () => {
    expect(computeBackoff(policy, 3, () => 0)).toBe(0);
    expect(computeBackoff(policy, 3, () => 0.5)).toBe(200);
    expect(computeBackoff(policy, 3, () => 0.999999)).toBe(399);
  });

  it('rejects a bad attempt number or random source', () => {
    expect(() => computeBackoff(policy, 0, Math.random)).toThrow(/attempt/);
    expect(() => computeBackoff(policy, 1, () => 1)).toThrow(/\[0, 1\)/);
  });
});

describe('decideRetry', () => {
  it('retries until attempts run out', () => {
    const random = seeded(3);
    expect(decideRetry(policy, { attempt: 1, errorCode: 'TIMEOUT' }, random)).toMatchObject({
      retry: true,
      nextAttempt: 2,
    });
    expect(decideRetry(policy, { attempt: 5, errorCode: 'TIMEOUT' }, random)).toEqual({
      retry: false,
      reason: 'ATTEMPTS_EXHAUSTED',
    });
  });

  it('never retries fatal codes, and only listed codes when retryable is set', () => {
    expect(decideRetry(policy, { attempt: 1, errorCode: 'BAD_USER_INPUT' }, Math.random)).toEqual({
      retry: false,
      reason: 'FATAL',
    });
    const listed = { ...policy, retryable: ['RATE_LIMITED'] };
    expect(decideRetry(listed, { attempt: 1, errorCode: 'TIMEOUT' }, Math.random)).toEqual({
      retry: false,
      reason: 'NOT_RETRYABLE',
    });
    expect(decideRetry(listed, { attempt: 1, errorCode: 'RATE_LIMITED' }, () => 0.5)).toEqual({
      retry: true,
      delayMs: 50,
      nextAttempt: 2,
    });
  });
});

describe('resolveStepPolicy', () => {
  const def = (() => {
    const result = validateWorkflowDefinition({
      start: 'call',
      deadline: '2h',
      defaults: {
        timeout: '20s',
        retry: { maxAttempts: 6, backoff: { max: '5m' }, fatal: ['NOPE'] },
      },
      steps: {
        call: {
          type: 'connector',
          connector: 'http',
          action: 'get',
          retry: { backoff: { initial: '2s' } },
          next: 'ask',
        },
        ask: { type: 'review', title: 't', next: 'shape' },
        shape: { type: 'transform', value: '1', end: true },
      },
    });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    return result.definition;
  })();

  it('merges step, workflow defaults and built-ins', () => {
    expect(resolveStepPolicy(def, 'call')).toEqual({
      timeoutMs: 20_000,
      retry: {
        maxAttempts: 6,
        initialMs: 2000,
        maxMs: 300_000,
        multiplier: 2,
        jitter: 'full',
        fatal: ['NOPE'],
      },
    });
  });

  it('tries human and expression steps once unless they say otherwise', () => {
    expect(resolveStepPolicy(def, 'ask').retry.maxAttempts).toBe(1);
    expect(resolveStepPolicy(def, 'shape').retry.maxAttempts).toBe(1);
  });

  it('gives people their own SLA instead of the machine timeout default', () => {
    expect(resolveStepPolicy(def, 'ask').timeoutMs).toBe(3 * 86_400_000);
    expect(resolveStepPolicy(def, 'shape').timeoutMs).toBe(20_000);
  });

  it('uses the run deadline, default 7 days', () => {
    expect(runDeadlineMs(def)).toBe(7_200_000);
    expect(runDeadlineMs({ ...def, deadline: undefined })).toBe(7 * 86_400_000);
  });
});
