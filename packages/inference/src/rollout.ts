// Rollout rules for deployments (live, canary, shadow): which deployment serves a request,
// when a canary rolls back, and how a shadow's agreement is counted. Pure data in, data out;
// the registry and dispatcher store the stats and call these.

import { createHash } from 'node:crypto';
import { InferenceError } from './errors.js';

export type DeploymentStage = 'live' | 'canary' | 'shadow';

export interface Deployment {
  id: string;
  modelVersion: string;
  poolId: string;
  stage: DeploymentStage;
  /** Canary only: the share of requests it serves, in (0, 1]. */
  trafficShare?: number;
}

export interface DeploymentChoice {
  /** The deployment whose decision the run acts on. */
  serve: Deployment;
  /** Deployments that score the same input and never act. */
  shadows: Deployment[];
  /** The request's position in [0, 1) that chose `serve`. */
  bucket: number;
}

/** Position of `requestKey` in [0, 1): the first 48 bits of its sha-256. */
export function trafficBucket(requestKey: string): number {
  const hex = createHash('sha256').update(requestKey).digest('hex');
  return Number.parseInt(hex.slice(0, 12), 16) / 2 ** 48;
}

/**
 * Chooses the serving deployment for `requestKey`. The same key always gets the same answer,
 * so retries of a run see the same model. Canaries (ordered by id) take consecutive slices of
 * [0, 1) by their share; the rest goes to the one live deployment.
 */
export function chooseDeployment(
  deployments: readonly Deployment[],
  requestKey: string,
): DeploymentChoice {
  const live = deployments.filter((d) => d.stage === 'live');
  if (live.length !== 1) {
    throw new InferenceError(
      'DEPLOYMENTS_INVALID',
      `A model needs exactly one live deployment to serve requests, found ${live.length}: promote one version to live (or retire the extra ones).`,
      { live: live.map((d) => d.id) },
    );
  }
  const canaries = deployments
    .filter((d) => d.stage === 'canary')
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let total = 0;
  for (const c of canaries) {
    const share = c.trafficShare;
    if (typeof share !== 'number' || !(share > 0 && share <= 1)) {
      throw new InferenceError(
        'DEPLOYMENTS_INVALID',
        `Canary deployment ${c.id} has traffic share ${String(share)}; set a share in (0, 1].`,
        { deployment: c.id },
      );
    }
    total += share;
  }
  if (total > 1 + 1e-9) {
    throw new InferenceError(
      'DEPLOYMENTS_INVALID',
      `Canary traffic shares add up to ${Number(total.toFixed(6))}, more than 1: lower them so live keeps the rest.`,
      { total },
    );
  }
  const bucket = trafficBucket(requestKey);
  let edge = 0;
  let serve = live[0]!;
  for (const c of canaries) {
    edge += c.trafficShare!;
    if (bucket < edge) {
      serve = c;
      break;
    }
  }
  return { serve, shadows: deployments.filter((d) => d.stage === 'shadow'), bucket };
}

export interface ServingStats {
  requests: number;
  errors: number;
  latencyP99Ms: number;
}

export interface CanaryStats {
  canary: ServingStats;
  live: ServingStats;
  /** Requests scored by both canary and live (e.g. sampled), and how many labels differed. */
  compared: number;
  disagreements: number;
}

export interface CanaryThresholds {
  /** Keep the canary until it has served this many requests (default 100). */
  minRequests?: number;
  /** Roll back when canary errors / requests exceeds this. */
  maxErrorRate: number;
  /** Roll back when the canary's p99 exceeds this many ms. */
  maxLatencyP99Ms?: number;
  /** Roll back when the canary's p99 exceeds live's p99 times this. */
  maxLatencyRatio?: number;
  /** Roll back when disagreements / compared exceeds this. */
  maxDisagreementRate: number;
}

export type CanaryVerdict =
  | { action: 'keep'; reason: 'collecting' | 'healthy' }
  | { action: 'rollback'; metric: 'error_rate' | 'latency' | 'disagreement'; reason: string };

/** Whether a canary stays or rolls back; checks error rate, then latency, then disagreement. */
export function evaluateCanary(stats: CanaryStats, thresholds: CanaryThresholds): CanaryVerdict {
  const { canary, live } = stats;
  if (canary.requests < (thresholds.minRequests ?? 100))
    return { action: 'keep', reason: 'collecting' };
  const errorRate = canary.errors / canary.requests;
  if (errorRate > thresholds.maxErrorRate) {
    return {
      action: 'rollback',
      metric: 'error_rate',
      reason: `canary error rate ${pct(errorRate)} exceeds ${pct(thresholds.maxErrorRate)} (${canary.errors} of ${canary.requests} requests)`,
    };
  }
  const p99 = canary.latencyP99Ms;
  if (thresholds.maxLatencyP99Ms !== undefined && p99 > thresholds.maxLatencyP99Ms) {
    return {
      action: 'rollback',
      metric: 'latency',
      reason: `canary p99 latency ${p99} ms exceeds ${thresholds.maxLatencyP99Ms} ms`,
    };
  }
  if (
    thresholds.maxLatencyRatio !== undefined &&
    live.requests > 0 &&
    p99 > live.latencyP99Ms * thresholds.maxLatencyRatio
  ) {
    return {
      action: 'rollback',
      metric: 'latency',
      reason: `canary p99 latency ${p99} ms exceeds ${thresholds.maxLatencyRatio}x live's ${live.latencyP99Ms} ms`,
    };
  }
  if (stats.compared > 0) {
    const rate = stats.disagreements / stats.compared;
    if (rate > thresholds.maxDisagreementRate) {
      return {
        action: 'rollback',
        metric: 'disagreement',
        reason: `canary disagrees with live on ${pct(rate)} of ${stats.compared} compared requests (limit ${pct(thresholds.maxDisagreementRate)})`,
      };
    }
  }
  return { action: 'keep', reason: 'healthy' };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

/** Running counts of a shadow deployment's agreement with live and with human reviewers. */
export interface ShadowTally {
  compared: number;
  agreeWithLive: number;
  /** Requests where a reviewer gave the final label. */
  reviewed: number;
  shadowAgreesWithHuman: number;
  liveAgreesWithHuman: number;
}

export const emptyShadowTally: ShadowTally = {
  compared: 0,
  agreeWithLive: 0,
  reviewed: 0,
  shadowAgreesWithHuman: 0,
  liveAgreesWithHuman: 0,
};

/** Adds one scored request; `humanLabel` is the reviewer's label when the request was reviewed. */
export function tallyShadow(
  tally: ShadowTally,
  outcome: { liveLabel: string; shadowLabel: string; humanLabel?: string | null },
): ShadowTally {
  const human = outcome.humanLabel ?? undefined;
  return {
    compared: tally.compared + 1,
    agreeWithLive: tally.agreeWithLive + (outcome.liveLabel === outcome.shadowLabel ? 1 : 0),
    reviewed: tally.reviewed + (human === undefined ? 0 : 1),
    shadowAgreesWithHuman: tally.shadowAgreesWithHuman + (human === outcome.shadowLabel ? 1 : 0),
    liveAgreesWithHuman: tally.liveAgreesWithHuman + (human === outcome.liveLabel ? 1 : 0),
  };
}

export interface ShadowReport {
  compared: number;
  reviewed: number;
  /** null when nothing was compared / reviewed yet. */
  agreementWithLive: number | null;
  shadowHumanAgreement: number | null;
  liveHumanAgreement: number | null;
}

export function shadowReport(t: ShadowTally): ShadowReport {
  const rate = (n: number, d: number) => (d === 0 ? null : n / d);
  return {
    compared: t.compared,
    reviewed: t.reviewed,
    agreementWithLive: rate(t.agreeWithLive, t.compared),
    shadowHumanAgreement: rate(t.shadowAgreesWithHuman, t.reviewed),
    liveHumanAgreement: rate(t.liveAgreesWithHuman, t.reviewed),
  };
}
