import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectViolations,
  installConnectGuard,
  type LoopbackPeer,
  startPeer,
  testResolver,
} from '../test/loopback-peer.js';
import { createEgressPolicy } from './egress-policy.js';
import { createHttpEgress } from './http-egress.js';

installConnectGuard();
let peer: LoopbackPeer;
const hosts = ['api.peer.test', 'mixed.example', '127.0.0.1'];

beforeAll(async () => {
  peer = await startPeer((req, res, body) => {
    if (req.url === '/big') {
      res.end('x'.repeat(4096));
    } else if (req.url === '/slow') {
      setTimeout(() => res.end('late'), 2000);
    } else if (req.url === '/redirect') {
      res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
    } else {
      res.setHeader('x-echo', 'yes');
      res.end(JSON.stringify({ method: req.method, body }));
    }
  });
});
afterAll(async () => {
  await peer.close();
  expect(connectViolations).toEqual([]);
});

const egress = (extra: Parameters<typeof createHttpEgress>[0] = {}) =>
  createHttpEgress({
    policy: createEgressPolicy({ allow: ['api.peer.test'] }),
    resolve: testResolver,
    ...extra,
  });

describe('http egress', () => {
  it('sends to the checked address with the declared name as Host, and strips host-owned headers', async () => {
    const targets: string[] = [];
    const fetch = egress({
      connectGuard: ({ address, port }) => targets.push(`${address}:${port}`),
    });
    const res = await fetch(
      {
        url: `http://api.peer.test:${peer.port}/echo?q=1`,
        method: 'post',
        headers: { Host: 'evil.example', 'X-Token': 't', 'content-length': '999' },
        body: 'héllo',
      },
      hosts,
    );
    expect(res).toMatchObject({
      status: 200,
      body: JSON.stringify({ method: 'POST', body: 'héllo' }),
    });
    expect(res.headers['x-echo']).toBe('yes');
    expect(targets).toEqual([`127.0.0.1:${peer.port}`]);
    const seen = peer.seen.at(-1)!;
    expect(seen.url).toBe('/echo?q=1');
    expect(seen.headers.host).toBe(`api.peer.test:${peer.port}`);
    expect(seen.headers['x-token']).toBe('t');
  });

  it('refuses a name with any blocked answer, before any connect', async () => {
    const targets: string[] = [];
    const fetch = egress({ connectGuard: ({ address }) => targets.push(address) });
    await expect(fetch({ url: 'http://mixed.example/' }, hosts)).rejects.toMatchObject({
      code: 'EGRESS_DENIED',
    });
    expect(targets).toEqual([]);
  });

  it('refuses non-http schemes, URL credentials and odd methods', async () => {
    const fetch = egress();
    await expect(fetch({ url: 'file:///etc/passwd' }, hosts)).rejects.toMatchObject({
      code: 'EGRESS_DENIED',
    });
    await expect(
      fetch({ url: `http://u:p@api.peer.test:${peer.port}/` }, hosts),
    ).rejects.toMatchObject({
      code: 'EGRESS_DENIED',
    });
    await expect(
      fetch({ url: `http://api.peer.test:${peer.port}/`, method: 'CONNECT' }, hosts),
    ).rejects.toMatchObject({
      code: 'EGRESS_DENIED',
    });
  });

  it('caps the response size and the time', async () => {
    const small = egress({ maxResponseBytes: 1024, timeoutMs: 300 });
    await expect(
      small({ url: `http://api.peer.test:${peer.port}/big` }, hosts),
    ).rejects.toMatchObject({
      code: 'RESPONSE_TOO_LARGE',
    });
    const started = Date.now();
    await expect(
      small({ url: `http://api.peer.test:${peer.port}/slow` }, hosts),
    ).rejects.toMatchObject({
      code: 'HTTP_TIMEOUT',
    });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('does not follow redirects', async () => {
    const res = await egress()({ url: `http://api.peer.test:${peer.port}/redirect` }, hosts);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('http://169.254.169.254/');
  });

  it('reaches 127.0.0.1 only when the operator allow-lists the address', async () => {
    const url = `http://127.0.0.1:${peer.port}/`;
    await expect(egress()({ url }, hosts)).rejects.toMatchObject({ code: 'EGRESS_DENIED' });
    const allowed = createHttpEgress({ policy: createEgressPolicy({ allow: ['127.0.0.1/32'] }) });
    expect((await allowed({ url }, hosts)).status).toBe(200);
  });
});
