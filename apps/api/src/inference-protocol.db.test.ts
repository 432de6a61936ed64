import { withTenant } from '@roster/db';
import { registerModelVersion, runnerPaths } from '@roster/inference';
import { createTenant } from '@roster/testkit';
import { describe, expect, it } from 'vitest';
import {
  denseModel,
  enqueueDense,
  LABELS,
  servingTenant,
  startListeningApi,
  WIDTH,
} from '../test/inference-fixtures.js';

// The registry's refusals and the /runner/v1 server: tenant isolation by pool token, leases,
// answers accepted once.
const { db, url } = await startListeningApi();

// Responses are read by path; their shape is what each protocol call returns.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Json = any;

async function call(
  token: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const type = res.headers.get('content-type') ?? '';
  return {
    status: res.status,
    body: type.includes('json') ? await res.json() : Buffer.from(await res.arrayBuffer()),
  };
}

const capabilities = { providers: ['cpu'], memoryBytes: 1, maxBatch: 8, threads: 1 };

async function registerRunner(token: string): Promise<string> {
  const r = await call(token, runnerPaths.register, { name: 'probe', version: 't', capabilities });
  expect(r.status).toBe(200);
  return r.body.runnerId;
}

describe('model registry', () => {
  it('refuses a file that is not ONNX, saying so', async () => {
    const tenant = await createTenant(db.ownerPool);
    await expect(
      registerModelVersion(db.appPool, tenant.id, {
        model: 'triage',
        bytes: new TextEncoder().encode('PK\u0003\u0004 this is a zip, not a model'),
        labels: ['a', 'b'],
        featurizer: { kind: 'dense', version: 1, width: WIDTH },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_MODEL', apiCode: 'BAD_USER_INPUT' });
    const { rows } = await withTenant(db.appPool, tenant.id, ({ client }) =>
      client.query('SELECT 1 FROM model_versions UNION ALL SELECT 1 FROM model_blobs'),
    );
    expect(rows).toHaveLength(0);
  });

  it('refuses a model whose signature does not match its featurizer or labels', async () => {
    const tenant = await createTenant(db.ownerPool);
    const register = (width: number, labels: string[]) =>
      registerModelVersion(db.appPool, tenant.id, {
        model: 'triage',
        bytes: denseModel(),
        labels,
        featurizer: { kind: 'dense', version: 1, width },
      });
    await expect(register(WIDTH + 1, [...LABELS])).rejects.toMatchObject({
      code: 'MODEL_SIGNATURE_MISMATCH',
      message: expect.stringContaining(
        `takes ${WIDTH} features, the featurizer gives ${WIDTH + 1}`,
      ),
    });
    await expect(register(WIDTH, ['a', 'b', 'c'])).rejects.toMatchObject({
      code: 'MODEL_SIGNATURE_MISMATCH',
    });
  });

  it('numbers versions and stores identical bytes once per tenant', async () => {
    const tenant = await createTenant(db.ownerPool);
    const input = {
      model: 'triage',
      bytes: denseModel(7),
      labels: [...LABELS],
      featurizer: { kind: 'dense' as const, version: 1 as const, width: WIDTH },
    };
    const v1 = await registerModelVersion(db.appPool, tenant.id, input);
    const v2 = await registerModelVersion(db.appPool, tenant.id, {
      ...input,
      metrics: { f1: 0.9 },
    });
    expect([v1.version, v2.version]).toEqual([1, 2]);
    expect(v2.sha256).toBe(v1.sha256);
    expect(v2.signature.inputs[0]).toMatchObject({ type: 'float32', dims: ['batch', WIDTH] });
    const { rows } = await withTenant(db.appPool, tenant.id, ({ client }) =>
      client.query('SELECT sha256 FROM model_blobs'),
    );
    expect(rows).toHaveLength(1);
  });
});

describe('/runner/v1 tenant isolation', () => {
  it("a pool token of tenant A cannot claim, see or answer tenant B's requests", async () => {
    const a = await servingTenant(db);
    const b = await servingTenant(db, { bytes: denseModel(2) });
    const [bRequest] = await enqueueDense(db.appPool, b, 1);
    const aRunner = await registerRunner(a.token);

    const claimed = await call(a.token, runnerPaths.claim, {
      runnerId: aRunner,
      maxItems: 10,
      leaseSeconds: 30,
    });
    expect(claimed.status).toBe(200);
    expect(claimed.body.items).toEqual([]);

    expect((await call(a.token, runnerPaths.model(b.sha256))).status).toBe(404);
    expect((await call(a.token, runnerPaths.manifest(b.sha256))).status).toBe(404);

    const answered = await call(a.token, runnerPaths.complete, {
      runnerId: aRunner,
      results: [{ requestId: bRequest, scores: [1, 0], label: 'ham', confidence: 1, latencyMs: 1 }],
    });
    expect(answered.body).toMatchObject({ accepted: 0, rejected: [{ requestId: bRequest }] });

    // B's runner id is not A's to use either.
    const bRunner = await registerRunner(b.token);
    const borrowed = await call(a.token, runnerPaths.claim, {
      runnerId: bRunner,
      maxItems: 10,
      leaseSeconds: 30,
    });
    expect(borrowed.status).toBe(401);

    // B's own runner still gets its request, untouched.
    const own = await call(b.token, runnerPaths.claim, {
      runnerId: bRunner,
      maxItems: 10,
      leaseSeconds: 30,
    });
    expect(own.body.items.map((i: { requestId: string }) => i.requestId)).toEqual([bRequest]);
  });

  it('refuses an unknown token with 401 and serves the model only to its tenant', async () => {
    const a = await servingTenant(db);
    expect((await call('rp_not-a-token', runnerPaths.register, {})).status).toBe(401);
    const file = await call(a.token, runnerPaths.model(a.sha256));
    expect(file.status).toBe(200);
    expect(Buffer.compare(file.body as Buffer, Buffer.from(denseModel()))).toBe(0);
    const manifest = await call(a.token, runnerPaths.manifest(a.sha256));
    expect(manifest.body).toMatchObject({ sha256: a.sha256, labels: [...LABELS] });
  });
});

describe('/runner/v1 leases', () => {
  it('accepts an answer once, and only from the runner holding an unexpired lease', async () => {
    const t = await servingTenant(db);
    const [id] = await enqueueDense(db.appPool, t, 1);
    const first = await registerRunner(t.token);
    const second = await registerRunner(t.token);
    const claimed = await call(t.token, runnerPaths.claim, {
      runnerId: first,
      maxItems: 5,
      leaseSeconds: 1,
    });
    expect(claimed.body.items).toHaveLength(1);
    // Leased: the other runner gets nothing until the lease ends.
    const none = await call(t.token, runnerPaths.claim, {
      runnerId: second,
      maxItems: 5,
      leaseSeconds: 30,
    });
    expect(none.body.items).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 1100));
    const again = await call(t.token, runnerPaths.claim, {
      runnerId: second,
      maxItems: 5,
      leaseSeconds: 30,
    });
    expect(again.body.items.map((i: { requestId: string }) => i.requestId)).toEqual([id]);
    const result = {
      requestId: id,
      scores: [0.2, 0.8],
      label: 'spam',
      confidence: 0.8,
      latencyMs: 3,
    };
    const late = await call(t.token, runnerPaths.complete, { runnerId: first, results: [result] });
    expect(late.body).toMatchObject({ accepted: 0 });
    const ok = await call(t.token, runnerPaths.complete, { runnerId: second, results: [result] });
    expect(ok.body).toMatchObject({ accepted: 1, rejected: [] });
    const twice = await call(t.token, runnerPaths.complete, {
      runnerId: second,
      results: [result],
    });
    expect(twice.status).toBe(200);
    expect(twice.body).toMatchObject({ accepted: 0, rejected: [{ requestId: id }] });
  });

  it('fails a request whose deadline passed instead of handing it out', async () => {
    const t = await servingTenant(db);
    const [late, fresh] = await enqueueDense(db.appPool, t, 2);
    await db.ownerPool.query(
      `UPDATE inference_requests SET deadline_at = now() - interval '1 second' WHERE id = $1`,
      [late],
    );
    const runner = await registerRunner(t.token);
    const claimed = await call(t.token, runnerPaths.claim, {
      runnerId: runner,
      maxItems: 5,
      leaseSeconds: 30,
    });
    expect(claimed.body.items.map((i: { requestId: string }) => i.requestId)).toEqual([fresh]);
    const { rows } = await db.ownerPool.query(
      'SELECT status, error FROM inference_requests WHERE id = $1',
      [late],
    );
    expect(rows[0]).toMatchObject({ status: 'failed', error: { code: 'DEADLINE_EXCEEDED' } });
  });
});
