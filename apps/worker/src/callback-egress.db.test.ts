import { createServer } from 'node:http';
import { type AddressInfo, Socket } from 'node:net';
import { withTenant } from '@roster/db';
import { listCallbackDeliveries, setWorkflowCallback, startRun } from '@roster/engine';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createWorkflow } from '../test/fixtures.js';
import { createCallbackDeliverer } from './callback-delivery.js';

// The connect guard: any socket this process opens to an address that is not loopback fails the
// test (Postgres and the local receiver are on loopback or a Unix socket).
const strays: string[] = [];
const connect = Socket.prototype.connect;
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);
Socket.prototype.connect = function guarded(this: Socket, ...args: unknown[]) {
  const first = args[0] as { host?: string; path?: string } | number | string;
  const host =
    typeof first === 'object' && first !== null
      ? first.path
        ? undefined
        : (first.host ?? 'localhost')
      : typeof first === 'number'
        ? typeof args[1] === 'string'
          ? args[1]
          : 'localhost'
        : undefined;
  if (host !== undefined && !LOOPBACK.has(host)) {
    strays.push(host);
    throw new Error(`test connect guard: refused a socket to ${host}`);
  }
  return (connect as (...a: unknown[]) => Socket).apply(this, args);
} as typeof Socket.prototype.connect;

// A receiver on loopback that must never be reached by a refused callback.
let hits = 0;
const receiver = createServer((_req, res) => {
  hits++;
  res.writeHead(200).end();
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const port = (receiver.address() as AddressInfo).port;

const db = await createTestDatabase();
const tenant = await createTenant(db.ownerPool, 'Egress');
const wf = await createWorkflow(db.ownerPool, tenant.id, {
  start: 'a',
  steps: { a: { type: 'transform', value: '1', end: true } },
});

// Names resolve only through this table; nothing asks real DNS.
const DNS: Record<string, string[]> = {
  'internal.example.com': ['10.0.0.1'],
  'metadata.example.com': ['169.254.169.254'],
  'ula.example.com': ['fd00::1'],
  'mixed.example.com': ['93.184.216.34', '10.0.0.1'],
  // A metadata name is refused by name, whatever it resolves to.
  'metadata.google.internal': ['93.184.216.34'],
};
const resolved: string[] = [];
const resolve = async (host: string) => {
  resolved.push(host);
  const answer = DNS[host];
  if (!answer) throw new Error(`no test DNS entry for ${host}`);
  return answer;
};
const guarded: string[] = [];
const deliver = createCallbackDeliverer(db.appPool, {
  resolve,
  connectGuard: ({ address }) => {
    guarded.push(address);
    if (!LOOPBACK.has(address)) throw new Error(`connect guard: ${address} is not loopback`);
  },
});

/** A delivery for a run that ended, with the callback pointing at `url`. */
async function deliveryTo(url: string) {
  await setWorkflowCallback(db.appPool, tenant.id, { workflowId: wf, url, createdBy: null });
  const run = await startRun(db.appPool, tenant.id, { workflowId: wf, input: {} });
  await withTenant(db.appPool, tenant.id, ({ client }) =>
    client.query(
      `UPDATE runs SET status = 'succeeded', output = '1', finished_at = now() WHERE tenant_id = $1 AND id = $2`,
      [tenant.id, run.runId],
    ),
  );
  const [delivery] = await listCallbackDeliveries(db.appPool, tenant.id, run.runId);
  return { runId: run.runId, deliveryId: delivery?.id as string };
}

afterEach(() => {
  expect(strays).toEqual([]);
});
afterAll(async () => {
  Socket.prototype.connect = connect;
  await db.drop();
  await new Promise((r) => receiver.close(r));
});

describe('callback egress (SSRF)', () => {
  it.each([
    ['loopback IPv4', `http://127.0.0.1:${port}/hook`, /127\.0\.0\.1 is loopback/],
    ['loopback IPv6', `http://[::1]:${port}/hook`, /::1 is loopback/],
    ['IPv4-mapped loopback', `http://[::ffff:127.0.0.1]:${port}/hook`, /loopback/],
    [
      'a name resolving to a private address',
      'http://internal.example.com/hook',
      /10\.0\.0\.1 is private/,
    ],
    [
      'a name resolving to cloud metadata',
      'http://metadata.example.com/hook',
      /169\.254\.169\.254 is link-local/,
    ],
    [
      'a name resolving to a unique local IPv6 address',
      'https://ula.example.com/hook',
      /fd00::1 is unique local/,
    ],
    [
      'a name with one private answer among public ones',
      'https://mixed.example.com/hook',
      /10\.0\.0\.1 is private/,
    ],
    ['a metadata host name', 'http://metadata.google.internal/computeMetadata/v1/', /metadata/],
  ])(
    'refuses %s without opening a socket, and logs the refusal once',
    async (_label, url, reason) => {
      const before = hits;
      const { runId, deliveryId } = await deliveryTo(url);
      const outcome = await deliver({ t: tenant.id, d: deliveryId });
      expect(outcome).toBe('failed');
      const [delivery] = await listCallbackDeliveries(db.appPool, tenant.id, runId);
      expect(delivery?.status).toBe('failed');
      expect(delivery?.attempts).toHaveLength(1);
      expect(delivery?.attempts[0]?.error).toMatch(reason);
      expect(delivery?.attempts[0]?.statusCode).toBeNull();
      // A refused delivery is final: a second job finds nothing to do.
      expect(await deliver({ t: tenant.id, d: deliveryId })).toBe('skipped');
      expect(hits).toBe(before);
      expect(guarded).toEqual([]);
    },
  );

  it('reaches loopback only when the operator allow-list names it', async () => {
    const allowed = createCallbackDeliverer(db.appPool, {
      allow: ['127.0.0.1'],
      resolve,
      connectGuard: ({ address }) => {
        if (!LOOPBACK.has(address)) throw new Error(`connect guard: ${address}`);
      },
    });
    const { deliveryId } = await deliveryTo(`http://127.0.0.1:${port}/hook`);
    expect(await allowed({ t: tenant.id, d: deliveryId })).toBe('delivered');
    expect(hits).toBe(1);
    // The allow-list is exact: ::1 stays refused.
    const v6 = await deliveryTo(`http://[::1]:${port}/hook`);
    expect(await allowed({ t: tenant.id, d: v6.deliveryId })).toBe('failed');
    expect(hits).toBe(1);
  });
});
