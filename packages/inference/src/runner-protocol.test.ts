import { describe, expect, it } from 'vitest';
import {
  claimResponseSchema,
  completeRequestSchema,
  registerRequestSchema,
  registerResponseSchema,
  runnerPaths,
} from './runner-protocol.js';

const sha = 'ab'.repeat(32);

describe('runner protocol schemas', () => {
  it('accepts a register with capabilities and fills pool defaults in the response', () => {
    const req = registerRequestSchema.parse({
      name: 'gpu-node-1',
      version: '0.1.0',
      capabilities: { providers: ['webgpu', 'cpu'], memoryBytes: 1e9, maxBatch: 64, threads: 2 },
    });
    expect(req.capabilities.providers).toEqual(['webgpu', 'cpu']);
    expect(
      registerResponseSchema.parse({ runnerId: 'r1', poolId: 'p1', heartbeatIntervalMs: 5000 })
        .pool,
    ).toEqual({});
    expect(() =>
      registerRequestSchema.parse({
        ...req,
        capabilities: { ...req.capabilities, providers: ['tpu'] },
      }),
    ).toThrow();
  });

  it('parses claimed items of each input kind and refuses a bad model hash or deadline', () => {
    const items = [
      {
        requestId: 'a',
        modelVersion: sha,
        input: { kind: 'dense', values: [1, 2] },
        deadline: '2026-01-01T00:00:00Z',
      },
      {
        requestId: 'b',
        modelVersion: sha,
        input: { kind: 'sparse', indices: [3], values: [0.5] },
        deadline: '2026-01-01T00:00:00.000+00:00',
      },
      {
        requestId: 'c',
        modelVersion: sha,
        input: { kind: 'email', raw: 'Subject: x\n\nhi' },
        deadline: '2026-01-01T00:00:00Z',
      },
    ];
    expect(claimResponseSchema.parse({ items }).items.map((i) => i.input.kind)).toEqual([
      'dense',
      'sparse',
      'email',
    ]);
    expect(
      claimResponseSchema.safeParse({ items: [{ ...items[0], modelVersion: 'ABC' }] }).success,
    ).toBe(false);
    expect(
      claimResponseSchema.safeParse({ items: [{ ...items[0], deadline: 'tomorrow' }] }).success,
    ).toBe(false);
    expect(
      claimResponseSchema.safeParse({ items: [{ ...items[0], input: { kind: 'image' } }] }).success,
    ).toBe(false);
  });

  it('needs results or errors in a complete, and bounds confidence', () => {
    expect(completeRequestSchema.safeParse({ runnerId: 'r' }).success).toBe(false);
    const result = {
      requestId: 'a',
      scores: [0.2, 0.8],
      label: 'spam',
      confidence: 0.8,
      latencyMs: 3,
    };
    expect(completeRequestSchema.parse({ runnerId: 'r', results: [result] }).errors).toEqual([]);
    expect(
      completeRequestSchema.safeParse({ runnerId: 'r', results: [{ ...result, confidence: 2 }] })
        .success,
    ).toBe(false);
    expect(
      completeRequestSchema.parse({
        runnerId: 'r',
        errors: [{ requestId: 'a', code: 'INPUT_INVALID', message: 'x', retryable: false }],
      }).results,
    ).toEqual([]);
  });

  it('names every path under /runner/v1', () => {
    expect(runnerPaths.manifest(sha)).toBe(`/runner/v1/models/${sha}/manifest`);
    expect(runnerPaths.claim).toBe('/runner/v1/claim');
  });
});
