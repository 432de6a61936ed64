// The runner against a small /runner/v1 peer written here with node:http: it checks the wire
// format (paths, bearer token, bodies through the shared schemas) and can fail on demand.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ClaimedItem,
  claimRequestSchema,
  completeRequestSchema,
  denseMlpIo,
  exportDenseMlpOnnx,
  heartbeatRequestSchema,
  type ItemError,
  type ItemResult,
  registerRequestSchema,
  sha256Hex,
} from '@roster/inference';
import * as ort from 'onnxruntime-node';
import { afterEach, describe, expect, it } from 'vitest';
import { Runner } from './runner.js';
import { RunnerClient } from './runner-client.js';

const TOKEN = 'pool-token-1';
const model = exportDenseMlpOnnx({ layers: [8, 16, 3], seed: 3 });
const sha = sha256Hex(model);
const labels = ['low', 'mid', 'high'];

interface Peer {
  url: string;
  server: Server;
  queue: ClaimedItem[];
  results: ItemResult[];
  errors: ItemError[];
  registers: unknown[];
  heartbeats: number;
  claims: number;
  /** Status codes to answer, in order, before serving normally, per path. */
  failNext: Map<string, number[]>;
  runnerIds: Set<string>;
}

async function startPeer(): Promise<Peer> {
  const peer = {
    queue: [],
    results: [],
    errors: [],
    registers: [],
    heartbeats: 0,
    claims: 0,
    failNext: new Map(),
    runnerIds: new Set(),
  } as unknown as Peer;
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  peer.server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = req.url ?? '';
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      return send(res, 401, { error: { code: 'UNAUTHORIZED', message: 'unknown pool token' } });
    }
    const fail = peer.failNext.get(path)?.shift();
    if (fail) return send(res, fail, { error: { code: 'INJECTED', message: `injected ${fail}` } });
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
    const knownRunner = () => peer.runnerIds.has(body.runnerId);
    switch (`${req.method} ${path}`) {
      case 'POST /runner/v1/register': {
        peer.registers.push(registerRequestSchema.parse(body));
        const runnerId = `runner-${peer.registers.length}`;
        peer.runnerIds.add(runnerId);
        return send(res, 200, { runnerId, poolId: 'pool-1', heartbeatIntervalMs: 20 });
      }
      case 'POST /runner/v1/heartbeat':
        heartbeatRequestSchema.parse(body);
        if (!knownRunner())
          return send(res, 401, { error: { code: 'UNKNOWN_RUNNER', message: 'register again' } });
        peer.heartbeats++;
        return send(res, 200, {});
      case 'POST /runner/v1/claim': {
        const claim = claimRequestSchema.parse(body);
        if (!knownRunner())
          return send(res, 401, { error: { code: 'UNKNOWN_RUNNER', message: 'register again' } });
        peer.claims++;
        return send(res, 200, { items: peer.queue.splice(0, claim.maxItems) });
      }
      case 'POST /runner/v1/complete': {
        const done = completeRequestSchema.parse(body);
        if (!knownRunner())
          return send(res, 401, { error: { code: 'UNKNOWN_RUNNER', message: 'register again' } });
        peer.results.push(...done.results);
        peer.errors.push(...done.errors);
        return send(res, 200, { accepted: done.results.length + done.errors.length });
      }
      case `GET /runner/v1/models/${sha}/manifest`:
        return send(res, 200, {
          sha256: sha,
          labels,
          featurizer: { kind: 'dense', version: 1, width: 8 },
        });
      case `GET /runner/v1/models/${sha}`:
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(model);
        return;
      default:
        return send(res, 404, { error: { code: 'NOT_FOUND', message: path } });
    }
  });
  await new Promise<void>((r) => peer.server.listen(0, '127.0.0.1', r));
  peer.url = `http://127.0.0.1:${(peer.server.address() as AddressInfo).port}`;
  return peer;
}

const row = (i: number) => Array.from({ length: 8 }, (_, k) => Math.cos(i * 8 + k));
const item = (
  i: number,
  input: ClaimedItem['input'] = { kind: 'dense', values: row(i) },
): ClaimedItem => ({
  requestId: `req-${i}`,
  modelVersion: sha,
  input,
  deadline: new Date(Date.now() + 60_000).toISOString(),
});

async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function startRunner(peer: Peer, token = TOKEN) {
  const runner = new Runner({
    client: new RunnerClient({ baseUrl: peer.url, poolToken: token }),
    name: 'test-node',
    version: '0.1.0',
    maxBatchSize: 4,
    maxQueueDelayMs: 2,
    claimWaitMs: 0,
    backoff: { initialMs: 5, maxMs: 20 },
  });
  await runner.start();
  cleanup.push(() => runner.stop());
  return runner;
}

describe('Runner over /runner/v1', () => {
  it('registers its capabilities, heartbeats, claims, and posts scores equal to session.run', async () => {
    const peer = await startPeer();
    cleanup.push(() => new Promise((r) => peer.server.close(() => r())));
    peer.queue.push(...Array.from({ length: 10 }, (_, i) => item(i)));
    await startRunner(peer);
    await until(() => peer.results.length === 10, '10 results');
    await until(() => peer.heartbeats >= 2, 'heartbeats');

    expect(peer.registers).toEqual([
      {
        name: 'test-node',
        version: '0.1.0',
        capabilities: expect.objectContaining({ providers: ['cpu'], maxBatch: 4, threads: 1 }),
      },
    ]);
    const session = await ort.InferenceSession.create(model);
    const direct = await session.run({
      [denseMlpIo.input]: new ort.Tensor(
        'float32',
        Float32Array.from(Array.from({ length: 10 }, (_, i) => row(i)).flat()),
        [10, 8],
      ),
    });
    const expected = direct[denseMlpIo.probabilities]!.data as Float32Array;
    for (const r of peer.results) {
      const i = Number(r.requestId.slice(4));
      const scores = Array.from(expected.subarray(i * 3, i * 3 + 3));
      expect(r.scores.map((s) => s.toFixed(5))).toEqual(scores.map((s) => s.toFixed(5)));
      expect(r.confidence).toBe(Math.max(...r.scores));
      expect(r.label).toBe(labels[r.scores.indexOf(r.confidence)]);
      expect(r.latencyMs).toBeGreaterThan(0);
    }
    await session.release();
  });

  it('re-registers after a 401 and keeps results through a 500 on complete', async () => {
    const peer = await startPeer();
    cleanup.push(() => new Promise((r) => peer.server.close(() => r())));
    await startRunner(peer);
    // The server forgets the runner (e.g. it restarted): claims and heartbeats answer 401.
    peer.runnerIds.clear();
    peer.failNext.set('/runner/v1/complete', [500]);
    peer.queue.push(...Array.from({ length: 6 }, (_, i) => item(i)));
    await until(() => peer.results.length === 6, '6 results');
    expect(peer.registers.length).toBeGreaterThanOrEqual(2);
    expect(new Set(peer.results.map((r) => r.requestId)).size).toBe(6);
    expect(peer.failNext.get('/runner/v1/complete')).toEqual([]); // the 500 was served
  });

  it('backs off while the server fails claims with 500, then serves', async () => {
    const peer = await startPeer();
    cleanup.push(() => new Promise((r) => peer.server.close(() => r())));
    peer.failNext.set('/runner/v1/claim', [500, 500, 503]);
    peer.queue.push(item(1));
    await startRunner(peer);
    await until(() => peer.results.length === 1, 'a result');
    expect(peer.failNext.get('/runner/v1/claim')).toEqual([]);
  });

  it('reports a malformed input as a non-retryable error, next to the good ones', async () => {
    const peer = await startPeer();
    cleanup.push(() => new Promise((r) => peer.server.close(() => r())));
    peer.queue.push(
      item(1),
      item(2, { kind: 'dense', values: [1, 2, 3] }),
      item(3, { kind: 'email', raw: 'hi' }),
    );
    await startRunner(peer);
    await until(() => peer.results.length + peer.errors.length === 3, '3 outcomes');
    expect(peer.results.map((r) => r.requestId)).toEqual(['req-1']);
    expect(peer.errors).toEqual([
      {
        requestId: 'req-2',
        code: 'INPUT_INVALID',
        message: 'This model takes 8 numbers per row, got 3.',
        retryable: false,
      },
      {
        requestId: 'req-3',
        code: 'INPUT_INVALID',
        message: "This model takes dense rows of 8 numbers, got an input of kind 'email'.",
        retryable: false,
      },
    ]);
  });

  it('refuses to start with a wrong pool token, saying what to check', async () => {
    const peer = await startPeer();
    cleanup.push(() => new Promise((r) => peer.server.close(() => r())));
    const runner = new Runner({
      client: new RunnerClient({ baseUrl: peer.url, poolToken: 'wrong' }),
      name: 'n',
      version: '1',
    });
    await expect(runner.start()).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: expect.stringMatching(/401 unknown pool token\): check the pool token/),
    });
  });
});
