import { denseMlpIo, exportDenseMlpOnnx } from '@roster/inference';
import * as ort from 'onnxruntime-node';
import { afterEach, describe, expect, it } from 'vitest';
import { RunnerError } from './errors.js';
import { SessionPool } from './session-pool.js';

const model = exportDenseMlpOnnx({ layers: [32, 64, 10], seed: 7 });
const pools: SessionPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

function rows(count: number, width: number, seed: number): Float32Array {
  return Float32Array.from({ length: count * width }, (_, i) => Math.sin(seed * 1000 + i));
}

describe('SessionPool', () => {
  it('gives the same outputs as a direct session.run, for batches spread over 2 threads', async () => {
    const pool = await SessionPool.create({ model, threads: 2, intraOpNumThreads: 1 });
    pools.push(pool);
    expect(pool.provider).toBe('cpu');
    expect(pool.threads).toBe(2);
    expect(pool.inputNames).toEqual([denseMlpIo.input]);
    const direct = await ort.InferenceSession.create(model);
    const batches = [1, 8, 64, 3].map((n, k) => ({ n, data: rows(n, 32, k) }));
    const viaPool = await Promise.all(
      batches.map((b) =>
        pool.run({ [denseMlpIo.input]: { type: 'float32', data: b.data, dims: [b.n, 32] } }),
      ),
    );
    for (const [k, b] of batches.entries()) {
      const expected = await direct.run({
        [denseMlpIo.input]: new ort.Tensor('float32', b.data, [b.n, 32]),
      });
      const got = viaPool[k]![denseMlpIo.probabilities]!;
      expect(got.dims).toEqual([b.n, 10]);
      expect(Array.from(got.data as Float32Array)).toEqual(
        Array.from(expected[denseMlpIo.probabilities]!.data as Float32Array),
      );
    }
    await direct.release();
  });

  it('rejects a batch with the wrong shape without losing the thread', async () => {
    const pool = await SessionPool.create({ model });
    pools.push(pool);
    await expect(
      pool.run({ [denseMlpIo.input]: { type: 'float32', data: rows(2, 5, 1), dims: [2, 5] } }),
    ).rejects.toMatchObject({ code: 'BATCH_FAILED' });
    const ok = await pool.run({
      [denseMlpIo.input]: { type: 'float32', data: rows(1, 32, 1), dims: [1, 32] },
    });
    expect(ok[denseMlpIo.probabilities]!.dims).toEqual([1, 10]);
  });

  it('refuses to start on a provider that cannot start, naming it and the fallback rule', async () => {
    // This repository skips onnxruntime-node's CUDA download (.npmrc), so cuda never starts here.
    const error = await SessionPool.create({ model, providers: ['cuda'] }).catch((e) => e);
    expect(error).toBeInstanceOf(RunnerError);
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.message).toMatch(/'cuda' could not start: .*Failed to load shared library/);
    expect(error.message).toMatch(/does not fall back to the CPU on its own/);
    expect(error.message).toMatch(/fallbackToCpu: true/);
  });

  it('runs on the CPU when the requested provider fails and fallbackToCpu is set', async () => {
    const pool = await SessionPool.create({ model, providers: ['cuda'], fallbackToCpu: true });
    pools.push(pool);
    expect(pool.provider).toBe('cpu');
  });

  it('refuses a model onnxruntime cannot load with SESSION_FAILED', async () => {
    const error = await SessionPool.create({ model: new TextEncoder().encode('nope') }).catch(
      (e) => e,
    );
    expect(error).toMatchObject({ code: 'SESSION_FAILED' });
  });
});
