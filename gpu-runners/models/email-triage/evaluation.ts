// Holdout metrics and the review threshold. "Automated" means decided without review: the
// model's confidence (the larger class probability) is at or above the threshold.

export interface Prediction {
  /** Probability of the positive class (`spam`). */
  p: number;
  /** True class: 1 spam, 0 ham. */
  y: number;
  /** Corpus group, e.g. `hard-ham-1`. */
  group: string;
}

const confidenceOf = (p: number) => Math.max(p, 1 - p);
const isCorrect = (x: Prediction) => (x.p >= 0.5 ? 1 : 0) === x.y;

/**
 * The lowest confidence threshold at which the automated predictions reach `targetPrecision`
 * (precision = share of automated predictions that are correct). Returns 1 when even the
 * most confident predictions miss the target, which automates almost nothing.
 */
export function chooseThreshold(preds: readonly Prediction[], targetPrecision: number): number {
  const sorted = preds
    .map((x) => ({ c: confidenceOf(x.p), ok: isCorrect(x) }))
    .sort((a, b) => b.c - a.c);
  let errors = 0;
  let threshold = 1;
  for (let k = 0; k < sorted.length; k++) {
    if (!sorted[k]!.ok) errors++;
    // Only cut between distinct confidences: a threshold cannot split ties.
    const next = sorted[k + 1];
    if (next && next.c === sorted[k]!.c) continue;
    if ((k + 1 - errors) / (k + 1) >= targetPrecision) threshold = sorted[k]!.c;
  }
  return threshold;
}

/** Wilson score interval for a binomial proportion (95% by default). */
export function wilsonInterval(successes: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 1];
  const phat = successes / n;
  const denom = 1 + (z * z) / n;
  const center = (phat + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((phat * (1 - phat)) / n + (z * z) / (4 * n * n))) / denom;
  return [Math.max(0, center - half), Math.min(1, center + half)];
}

/** Area under the ROC curve (probability a random spam scores above a random ham). */
export function rocAuc(preds: readonly Prediction[]): number {
  const sorted = [...preds].sort((a, b) => a.p - b.p);
  let rankSum = 0;
  let positives = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j < sorted.length && sorted[j]!.p === sorted[i]!.p) j++;
    const avgRank = (i + j + 1) / 2; // ranks are 1-based
    for (let k = i; k < j; k++) {
      if (sorted[k]!.y === 1) {
        rankSum += avgRank;
        positives++;
      }
    }
    i = j;
  }
  const negatives = sorted.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface ClassMetrics {
  precision: number;
  recall: number;
  support: number;
}

export interface HoldoutMetrics {
  emails: number;
  accuracy: number;
  auc: number;
  perClass: { ham: ClassMetrics; spam: ClassMetrics };
  /** rows: true class, columns: predicted class, in the order [ham, spam]. */
  confusionMatrix: { labels: ['ham', 'spam']; matrix: [[number, number], [number, number]] };
  threshold: number;
  /** Share of emails decided without review. */
  automationRate: number;
  automated: number;
  /** Share of automated decisions that are correct, with its 95% Wilson interval. */
  autoPrecision: number;
  autoPrecisionCi95: [number, number];
  autoErrors: number;
  hardHam: { emails: number; automated: number; automationRate: number; autoErrors: number };
}

export function evaluate(preds: readonly Prediction[], threshold: number): HoldoutMetrics {
  const m: [[number, number], [number, number]] = [
    [0, 0],
    [0, 0],
  ];
  for (const x of preds) m[x.y]![x.p >= 0.5 ? 1 : 0]++;
  const cls = (c: 0 | 1): ClassMetrics => {
    const tp = m[c][c];
    const predicted = m[0][c] + m[1][c];
    const support = m[c][0] + m[c][1];
    return {
      precision: predicted ? tp / predicted : 0,
      recall: support ? tp / support : 0,
      support,
    };
  };
  const auto = preds.filter((x) => confidenceOf(x.p) >= threshold);
  const autoErrors = auto.filter((x) => !isCorrect(x)).length;
  const hard = preds.filter((x) => x.group.startsWith('hard-ham'));
  const hardAuto = hard.filter((x) => confidenceOf(x.p) >= threshold);
  return {
    emails: preds.length,
    accuracy: (m[0][0] + m[1][1]) / preds.length,
    auc: rocAuc(preds),
    perClass: { ham: cls(0), spam: cls(1) },
    confusionMatrix: { labels: ['ham', 'spam'], matrix: m },
    threshold,
    automationRate: auto.length / preds.length,
    automated: auto.length,
    autoPrecision: auto.length ? (auto.length - autoErrors) / auto.length : 1,
    autoPrecisionCi95: wilsonInterval(auto.length - autoErrors, auto.length),
    autoErrors,
    hardHam: {
      emails: hard.length,
      automated: hardAuto.length,
      automationRate: hard.length ? hardAuto.length / hard.length : 0,
      autoErrors: hardAuto.filter((x) => !isCorrect(x)).length,
    },
  };
}
