// One model version served by a runner: its session threads, its dynamic batcher and its codec.
// `infer` is the whole in-process path of a request: prepare -> batch -> session -> scores.

import {
  checkFeaturizerCompatibility,
  type FeaturizerSpec,
  type InferenceInput,
  inspectOnnxModel,
} from '@roster/inference';
import { DynamicBatcher } from './dynamic-batcher.js';
import { codecFor, type RowCodec, splitScores } from './model-input.js';
import { SessionPool, type SessionPoolOptions } from './session-pool.js';

export interface ModelServerOptions extends Omit<SessionPoolOptions, 'model'> {
  model: Uint8Array;
  labels: readonly string[];
  featurizer: FeaturizerSpec;
  /** Default 64. */
  maxBatchSize?: number;
  /** Default 2 ms. */
  maxQueueDelayMs?: number;
  /** Batches in flight; default twice the threads, so each thread has the next batch ready. */
  maxConcurrentBatches?: number;
}

export interface ScoredItem {
  scores: number[];
  label: string;
  confidence: number;
}

export class ModelServer {
  private constructor(
    readonly sha256: string,
    readonly labels: readonly string[],
    readonly pool: SessionPool,
    private readonly codec: RowCodec<unknown>,
    readonly batcher: DynamicBatcher<unknown, number[]>,
  ) {}

  /**
   * Checks the model against its featurizer and labels (MODEL_SIGNATURE_MISMATCH), then starts
   * its session threads (PROVIDER_UNAVAILABLE when the providers cannot start).
   */
  static async load(options: ModelServerOptions): Promise<ModelServer> {
    const signature = await inspectOnnxModel(options.model);
    checkFeaturizerCompatibility(signature, options.featurizer, options.labels);
    const pool = await SessionPool.create(options);
    const codec = codecFor(options.featurizer, pool.inputNames);
    const outputName = pool.outputNames[0]!;
    const batcher = new DynamicBatcher<unknown, number[]>({
      maxBatchSize: options.maxBatchSize ?? 64,
      maxQueueDelayMs: options.maxQueueDelayMs ?? 2,
      maxConcurrentBatches: options.maxConcurrentBatches ?? pool.threads * 2,
      // collate builds fresh buffers, so they move to the thread instead of being copied.
      run: async (rows) =>
        splitScores(
          await pool.run(codec.collate(rows), { transfer: true }),
          outputName,
          rows.length,
        ),
    });
    return new ModelServer(signature.sha256, options.labels, pool, codec, batcher);
  }

  /** Scores one input. Throws INPUT_INVALID for a bad input, the batch's error otherwise. */
  async infer(input: InferenceInput): Promise<ScoredItem> {
    const row = this.codec.prepare(input);
    const scores = await this.batcher.submit(row);
    let best = 0;
    for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
    return { scores, label: this.labels[best]!, confidence: scores[best]! };
  }

  /** Finishes queued items, then stops the threads. */
  async close(): Promise<void> {
    await this.batcher.close();
    await this.pool.close();
  }
}
