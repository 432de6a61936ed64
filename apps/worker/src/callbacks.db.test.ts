import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cancelRun, listCallbackDeliveries, setWorkflowCallback, startRun } from '@roster/engine';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow, testExecutors, waitFor } from '../test/fixtures.js';
import { type RunningWorkerPool, runWorkerPool } from './worker-pool.js';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

// A local receiver: /ok answers 204; /flaky answers 500 twice, then 200; /down always 503.
const received: Received[] = [];
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const path = req.url ?? '';
    received.push({
      path,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      at: Date.now(),
    });
    const seen = received.filter((r) => r.path === path).length;
    if (path.startsWith('/ok')) res.writeHead(204).end();
    else if (path.startsWith('/flaky')) res.writeHead(seen <= 2 ? 500 : 200).end('thanks');
    else res.writeHead(503).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

const db = await createTestDatabase();
const tenant = await createTenant(db.ownerPool, 'Callbacks');
const BACKOFF = [150, 150, 150];
let worker: RunningWorkerPool;

beforeAll(async () => {
  worker = await runWorkerPool({
    appUrl: db.appUrl,
    executors: testExecutors(db.appPool),
    concurrency: 4,
    pollIntervalMs: 50,
    // The operator's allow-list names the local receiver, as ROSTER_EGRESS_ALLOW would.
    callbacks: { allow: ['127.0.0.1'], backoffMs: BACKOFF },
  });
});
afterAll(async () => {
  await worker?.stop();
  await db.drop();
  await new Promise((resolve) => receiver.close(resolve));
});

async function workflowWithCallback(path: string, definition?: object) {
  const wf = await createWorkflow(
    db.ownerPool,
    tenant.id,
    (definition as never) ?? {
      start: 'a',
      steps: { a: { type: 'transform', value: 'input.n * 2', end: true } },
    },
  );
  const { secret } = await setWorkflowCallback(db.appPool, tenant.id, {
    workflowId: wf,
    url: `${base}${path}`,
    createdBy: null,
  });
  return { wf, secret: secret as string };
}

const finished = (runId: string, status: string, attempts: number) =>
  waitFor(
    async () => {
      const [delivery] = await listCallbackDeliveries(db.appPool, tenant.id, runId);
      return delivery?.status === status && delivery.attempts.length === attempts
        ? delivery
        : undefined;
    },
    20_000,
    `the callback of run ${runId} to be ${status} after ${attempts} attempt(s)`,
  );

describe('run callbacks', () => {
  it('POSTs a signed run.succeeded event that verifies with the workflow secret, and logs it', async () => {
    const { wf, secret } = await workflowWithCallback('/ok/1');
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const run = await startRun(db.appPool, tenant.id, { workflowId: wf, input: { n: 21 } });
    const delivery = await finished(run.runId, 'delivered', 1);
    const got = received.filter((r) => r.path === '/ok/1');
    expect(got).toHaveLength(1);
    const message = got[0] as Received;
    expect(message.headers['webhook-id']).toBe(delivery.id);
    const event = new Webhook(secret).verify(
      message.body,
      message.headers as Record<string, string>,
    );
    expect(event).toMatchObject({
      type: 'run.succeeded',
      data: {
        runId: Buffer.from(`Run:${run.runId}`).toString('base64url'),
        workflowId: Buffer.from(`Workflow:${wf}`).toString('base64url'),
        status: 'succeeded',
        output: 42,
      },
    });
    // Signed with another secret, the same message does not verify.
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(
        message.body,
        message.headers as Record<string, string>,
      ),
    ).toThrow();
    expect(delivery).toMatchObject({
      eventType: 'run.succeeded',
      attempts: [{ attempt: 1, statusCode: 204, error: null }],
    });
  });

  it('retries a failing receiver with backoff, logging every attempt, until it accepts', async () => {
    const { wf } = await workflowWithCallback('/flaky/1');
    const run = await startRun(db.appPool, tenant.id, { workflowId: wf, input: { n: 1 } });
    const delivery = await finished(run.runId, 'delivered', 3);
    expect(delivery.attempts.map((a) => [a.attempt, a.statusCode])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    expect(delivery.attempts[0]?.error).toContain('HTTP 500');
    const times = received.filter((r) => r.path === '/flaky/1').map((r) => r.at);
    // Each retry waited its backoff; each attempt carried the same webhook-id.
    expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(
      BACKOFF[0] as number,
    );
    expect((times[2] as number) - (times[1] as number)).toBeGreaterThanOrEqual(
      BACKOFF[1] as number,
    );
    expect(
      new Set(received.filter((r) => r.path === '/flaky/1').map((r) => r.headers['webhook-id']))
        .size,
    ).toBe(1);
  });

  it('gives up after the backoff schedule is spent and says so in the log', async () => {
    const { wf } = await workflowWithCallback('/down/1');
    const run = await startRun(db.appPool, tenant.id, { workflowId: wf, input: { n: 1 } });
    const delivery = await finished(run.runId, 'failed', BACKOFF.length + 1);
    expect(delivery.attempts.every((a) => a.statusCode === 503)).toBe(true);
    expect(delivery.nextAttemptAt).toBeNull();
  });

  it('reports a cancelled run as run.cancelled', async () => {
    const { wf, secret } = await workflowWithCallback('/ok/cancel', {
      start: 'w',
      steps: { w: { type: 'wait', duration: '1h', end: true } },
    });
    const run = await startRun(db.appPool, tenant.id, { workflowId: wf, input: {} });
    await cancelRun(db.appPool, tenant.id, run.runId);
    await finished(run.runId, 'delivered', 1);
    const message = received.find((r) => r.path === '/ok/cancel') as Received;
    const event = new Webhook(secret).verify(
      message.body,
      message.headers as Record<string, string>,
    );
    expect(event).toMatchObject({ type: 'run.cancelled', data: { status: 'cancelled' } });
  });
});
