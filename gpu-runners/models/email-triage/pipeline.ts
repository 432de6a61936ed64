// The email-triage training run: featurize the corpus, hold out the fixed sha256 slice, pick
// the review threshold by K-fold cross-validation on the training emails only, train on all
// training emails, and measure on the holdout. One seed takes ~15 s on one core.

import {
  defaultEmailFeaturizerSpec,
  exportSparseLogisticOnnx,
  featurize,
  type HashedNgramsSpec,
  parseEmail,
  predictPositive,
  type SparseFeatures,
  type SparseLogisticModel,
} from '@roster/inference';
import { type CorpusEmail, isHoldout, loadCorpus } from './corpus.js';
import { chooseThreshold, evaluate, type HoldoutMetrics, type Prediction } from './evaluation.js';
import { type LogisticOptions, trainLogistic } from './logistic.js';
import { seededRandom, shuffleInPlace } from './seeded-random.js';

export const labels: [string, string] = ['ham', 'spam'];

export interface TrainingOptions {
  /** Seeds to train with; the model of the first one is the one exported (default [1]). */
  seeds?: number[];
  /** Cross-validation folds for the threshold (default 5). */
  folds?: number;
  /** Precision the automated decisions must reach in cross-validation (default 0.995). */
  targetPrecision?: number;
  featurizer?: HashedNgramsSpec;
  trainer?: Omit<LogisticOptions, 'seed'>;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface SeedResult {
  seed: number;
  threshold: number;
  crossValidation: { automationRate: number; autoPrecision: number; accuracy: number };
  holdout: HoldoutMetrics;
}

export interface TrainingResult {
  corpus: { emails: number; training: number; holdout: number; holdoutHardHam: number };
  featurizer: HashedNgramsSpec;
  trainer: Required<Omit<LogisticOptions, 'seed'>>;
  folds: number;
  targetPrecision: number;
  seeds: SeedResult[];
  /** Medians over seeds of the figures the goal is stated in. */
  median: {
    accuracy: number;
    automationRate: number;
    autoPrecision: number;
    hardHamAutomationRate: number;
    hardHamAutoErrors: number;
  };
  /** The first seed's model as ONNX, with labels, featurizer and threshold in its metadata. */
  onnx: Uint8Array;
  model: SparseLogisticModel;
  seconds: { featurize: number; train: number };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function runTraining(options: TrainingOptions = {}, corpus?: CorpusEmail[]): TrainingResult {
  const seeds = options.seeds ?? [1];
  const folds = options.folds ?? 5;
  const targetPrecision = options.targetPrecision ?? 0.995;
  const spec = options.featurizer ?? defaultEmailFeaturizerSpec;
  const trainer = {
    epochs: 12,
    learningRate: 0.5,
    l2: 1e-5,
    positiveWeight: 1,
    ...options.trainer,
  };
  const log = options.log ?? (() => {});

  const t0 = performance.now();
  const emails = corpus ?? loadCorpus();
  const xs: SparseFeatures[] = emails.map((e) => featurize(spec, parseEmail(e.raw)));
  const ys = emails.map((e) => (e.label === 'spam' ? 1 : 0));
  const all = emails.map((_, i) => i);
  const train = all.filter((i) => !isHoldout(emails[i]!.group, emails[i]!.id));
  const holdout = all.filter((i) => isHoldout(emails[i]!.group, emails[i]!.id));
  const featurizeSeconds = (performance.now() - t0) / 1000;
  log(
    `parsed and featurized ${emails.length} emails in ${featurizeSeconds.toFixed(1)} s (${train.length} training, ${holdout.length} holdout)`,
  );

  const fit = (rows: number[], seed: number) =>
    trainLogistic(
      rows.map((i) => xs[i]!),
      rows.map((i) => ys[i]!),
      spec.dims,
      labels,
      { ...trainer, seed },
    );
  const predict = (model: SparseLogisticModel, rows: number[]): Prediction[] =>
    rows.map((i) => ({ p: predictPositive(model, xs[i]!), y: ys[i]!, group: emails[i]!.group }));

  const t1 = performance.now();
  const results: SeedResult[] = [];
  let firstModel: SparseLogisticModel | undefined;
  for (const seed of seeds) {
    // Out-of-fold predictions on the training emails choose the threshold; the holdout never does.
    const order = shuffleInPlace([...train], seededRandom(seed * 7919 + 17));
    const outOfFold: Prediction[] = [];
    for (let f = 0; f < folds; f++) {
      const fitRows = order.filter((_, k) => k % folds !== f);
      const testRows = order.filter((_, k) => k % folds === f);
      outOfFold.push(...predict(fit(fitRows, seed * 100 + f + 1), testRows));
      log(`seed ${seed}: fold ${f + 1}/${folds} done`);
    }
    const threshold = chooseThreshold(outOfFold, targetPrecision);
    const cv = evaluate(outOfFold, threshold);
    const model = fit(train, seed);
    firstModel ??= model;
    const metrics = evaluate(predict(model, holdout), threshold);
    log(
      `seed ${seed}: threshold ${threshold.toFixed(4)}, holdout accuracy ${pct(metrics.accuracy)}, automation ${pct(metrics.automationRate)} at precision ${pct(metrics.autoPrecision)}, hard ham ${metrics.hardHam.automated}/${metrics.hardHam.emails} automated with ${metrics.hardHam.autoErrors} errors`,
    );
    results.push({
      seed,
      threshold,
      crossValidation: {
        automationRate: cv.automationRate,
        autoPrecision: cv.autoPrecision,
        accuracy: cv.accuracy,
      },
      holdout: metrics,
    });
  }
  const first = results[0]!;
  const onnx = exportSparseLogisticOnnx(firstModel!, spec, {
    'roster.model': 'email-triage',
    'roster.threshold': String(first.threshold),
    'roster.seed': String(first.seed),
  });
  const hardHam = holdout.filter((i) => emails[i]!.group.startsWith('hard-ham')).length;
  return {
    corpus: {
      emails: emails.length,
      training: train.length,
      holdout: holdout.length,
      holdoutHardHam: hardHam,
    },
    featurizer: spec,
    trainer,
    folds,
    targetPrecision,
    seeds: results,
    median: {
      accuracy: median(results.map((r) => r.holdout.accuracy)),
      automationRate: median(results.map((r) => r.holdout.automationRate)),
      autoPrecision: median(results.map((r) => r.holdout.autoPrecision)),
      hardHamAutomationRate: median(results.map((r) => r.holdout.hardHam.automationRate)),
      hardHamAutoErrors: median(results.map((r) => r.holdout.hardHam.autoErrors)),
    },
    onnx,
    model: firstModel!,
    seconds: { featurize: featurizeSeconds, train: (performance.now() - t1) / 1000 },
  };
}

export function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}
