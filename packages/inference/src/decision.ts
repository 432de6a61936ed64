// Turning a model's class scores into a Decision, gated by the policy's review thresholds.
// Pure (hashing is computation, not IO), so the engine and the tests share it.

import { createHash } from 'node:crypto';
import { InferenceError } from './errors.js';

/** Review thresholds from policy: a per-workflow default, overridden per label. */
export interface DecisionThresholds {
  /** Minimum confidence to act without review, in [0, 1]. */
  default: number;
  perLabel?: Record<string, number>;
}

export interface Decision {
  label: string;
  /** The winning class's score. */
  confidence: number;
  /** Every class's score, keyed by label. */
  scores: Record<string, number>;
  /** The threshold that applied (the label's own, else the default). */
  threshold: number;
  /** True when confidence >= threshold; otherwise the run opens a ReviewTask. */
  autoDecided: boolean;
}

function checkThreshold(value: unknown, where: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new InferenceError(
      'THRESHOLDS_INVALID',
      `Review threshold ${where} is ${String(value)}; it must be a number in [0, 1] (1 sends everything to review).`,
      { where, value },
    );
  }
  return value;
}

/**
 * Picks the highest-scoring label (the first on ties) and whether it may act without review.
 * `scores` are probabilities in label order; throws SCORES_INVALID when they do not fit `labels`.
 */
export function decide(
  scores: readonly number[],
  labels: readonly string[],
  thresholds: DecisionThresholds,
): Decision {
  if (scores.length !== labels.length || labels.length === 0) {
    throw new InferenceError(
      'SCORES_INVALID',
      `The model returned ${scores.length} scores for ${labels.length} labels: the model version's labels must list one name per output column.`,
      { scores: scores.length, labels: labels.length },
    );
  }
  if (!scores.every((s) => Number.isFinite(s) && s >= 0 && s <= 1)) {
    throw new InferenceError(
      'SCORES_INVALID',
      'Class scores must be probabilities in [0, 1]: export the model with a Softmax/Sigmoid output.',
      { scores: [...scores] },
    );
  }
  const fallback = checkThreshold(thresholds.default, 'default');
  for (const [label, t] of Object.entries(thresholds.perLabel ?? {}))
    checkThreshold(t, `for label '${label}'`);
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  const label = labels[best]!;
  const confidence = scores[best]!;
  const threshold = thresholds.perLabel?.[label] ?? fallback;
  return {
    label,
    confidence,
    scores: Object.fromEntries(labels.map((l, i) => [l, scores[i]!])),
    threshold,
    autoDecided: confidence >= threshold,
  };
}

/** JSON with object keys sorted at every depth; typed arrays become plain arrays. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new InferenceError(
        'FEATURES_INVALID',
        `Input contains ${value}, which has no JSON form: send finite numbers only.`,
      );
    }
    if (typeof value === 'bigint') return value.toString();
    return JSON.stringify(value) ?? 'null';
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return canonicalJson(Array.from(value as unknown as ArrayLike<number | bigint>));
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** sha-256 (hex) of the input's canonical JSON: equal inputs give equal fingerprints. */
export function inputFingerprint(input: unknown): string {
  return createHash('sha256').update(canonicalJson(input)).digest('hex');
}
