import { describe, expect, it } from 'vitest';
import {
  type CanaryStats,
  chooseDeployment,
  type Deployment,
  emptyShadowTally,
  evaluateCanary,
  shadowReport,
  tallyShadow,
  trafficBucket,
} from './rollout.js';

const live: Deployment = { id: 'd-live', modelVersion: 'v1', poolId: 'p', stage: 'live' };
const canary = (id: string, trafficShare: number): Deployment => ({
  id,
  modelVersion: `v-${id}`,
  poolId: 'p',
  stage: 'canary',
  trafficShare,
});
const shadow: Deployment = { id: 'd-shadow', modelVersion: 'v9', poolId: 'p', stage: 'shadow' };
const keys = Array.from({ length: 20_000 }, (_, i) => `run-${i}/step-1`);

describe('chooseDeployment', () => {
  it('sends about the canary share to the canary, the same key always to the same place', () => {
    const deployments = [live, canary('c1', 0.1), shadow];
    const served = keys.map((k) => chooseDeployment(deployments, k).serve.id);
    const share = served.filter((id) => id === 'c1').length / keys.length;
    expect(share).toBeGreaterThan(0.09);
    expect(share).toBeLessThan(0.11);
    expect(keys.map((k) => chooseDeployment(deployments, k).serve.id)).toEqual(served);
    expect(chooseDeployment(deployments, 'x').shadows).toEqual([shadow]);
  });

  it('keeps requests on their deployment when the canary share grows (slices only widen)', () => {
    const small = keys.map((k) => chooseDeployment([live, canary('c1', 0.05)], k).serve.id);
    const large = keys.map((k) => chooseDeployment([live, canary('c1', 0.2)], k).serve.id);
    small.forEach((id, i) => {
      if (id === 'c1') expect(large[i]).toBe('c1');
    });
  });

  it('splits between two canaries by their shares, in id order', () => {
    const deployments = [canary('c2', 0.3), live, canary('c1', 0.2)];
    const counts = new Map<string, number>();
    for (const k of keys) {
      const { serve, bucket } = chooseDeployment(deployments, k);
      counts.set(serve.id, (counts.get(serve.id) ?? 0) + 1);
      expect(bucket).toBe(trafficBucket(k));
      expect(serve.id).toBe(bucket < 0.2 ? 'c1' : bucket < 0.5 ? 'c2' : 'd-live');
    }
    expect(counts.get('c1')! / keys.length).toBeCloseTo(0.2, 1);
    expect(counts.get('c2')! / keys.length).toBeCloseTo(0.3, 1);
  });

  it.each([
    [[canary('c1', 0.1)], /exactly one live deployment to serve requests, found 0/],
    [[live, { ...live, id: 'd2' }], /found 2/],
    [[live, canary('c1', 0)], /share in \(0, 1\]/],
    [[live, canary('c1', 0.7), canary('c2', 0.6)], /add up to 1.3/],
  ])('refuses an invalid set (%#)', (deployments, message) => {
    expect(() => chooseDeployment(deployments, 'k')).toThrow(
      expect.objectContaining({
        code: 'DEPLOYMENTS_INVALID',
        message: expect.stringMatching(message),
      }),
    );
  });
});

describe('evaluateCanary', () => {
  const healthy: CanaryStats = {
    canary: { requests: 500, errors: 2, latencyP99Ms: 40 },
    live: { requests: 5000, errors: 10, latencyP99Ms: 35 },
    compared: 400,
    disagreements: 8,
  };
  const thresholds = {
    maxErrorRate: 0.01,
    maxLatencyP99Ms: 100,
    maxLatencyRatio: 1.5,
    maxDisagreementRate: 0.05,
  };

  it.each([
    ['healthy', healthy, { action: 'keep', reason: 'healthy' }],
    [
      'too few requests, even if failing',
      { ...healthy, canary: { requests: 50, errors: 50, latencyP99Ms: 1 } },
      { action: 'keep', reason: 'collecting' },
    ],
    [
      'error rate 2%',
      { ...healthy, canary: { ...healthy.canary, errors: 10 } },
      { action: 'rollback', metric: 'error_rate' },
    ],
    [
      'error rate exactly at the limit',
      { ...healthy, canary: { ...healthy.canary, errors: 5 } },
      { action: 'keep', reason: 'healthy' },
    ],
    [
      'p99 above absolute limit',
      { ...healthy, canary: { ...healthy.canary, latencyP99Ms: 120 } },
      { action: 'rollback', metric: 'latency' },
    ],
    [
      'p99 above 1.5x live',
      { ...healthy, canary: { ...healthy.canary, latencyP99Ms: 60 } },
      { action: 'rollback', metric: 'latency' },
    ],
    [
      'disagreement 10%',
      { ...healthy, disagreements: 40 },
      { action: 'rollback', metric: 'disagreement' },
    ],
    [
      'nothing compared yet',
      { ...healthy, compared: 0, disagreements: 0 },
      { action: 'keep', reason: 'healthy' },
    ],
  ] as const)('%s', (_name, stats, expected) => {
    expect(evaluateCanary(stats, thresholds)).toMatchObject(expected);
  });

  it('explains a rollback with the measured figure and the limit', () => {
    const verdict = evaluateCanary({ ...healthy, disagreements: 40 }, thresholds);
    expect(verdict).toEqual({
      action: 'rollback',
      metric: 'disagreement',
      reason: 'canary disagrees with live on 10.00% of 400 compared requests (limit 5.00%)',
    });
  });
});

describe('shadow agreement', () => {
  it('counts agreement with live and, for reviewed requests, with the human label', () => {
    const outcomes = [
      { liveLabel: 'spam', shadowLabel: 'spam' },
      { liveLabel: 'spam', shadowLabel: 'ham', humanLabel: 'ham' },
      { liveLabel: 'ham', shadowLabel: 'ham', humanLabel: 'ham' },
      { liveLabel: 'ham', shadowLabel: 'spam', humanLabel: null },
    ];
    const tally = outcomes.reduce(tallyShadow, emptyShadowTally);
    expect(shadowReport(tally)).toEqual({
      compared: 4,
      reviewed: 2,
      agreementWithLive: 0.5,
      shadowHumanAgreement: 1,
      liveHumanAgreement: 0.5,
    });
    expect(shadowReport(emptyShadowTally).agreementWithLive).toBeNull();
  });
});
