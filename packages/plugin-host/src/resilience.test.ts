import { describe, expect, it } from 'vitest';
import { PluginHostError } from './errors.js';
import { createConnectionResilience } from './resilience.js';

const upstreamDown = () => Promise.reject(new PluginHostError('HTTP_FAILED', 'connection refused'));

describe('connection resilience', () => {
  it('opens the circuit after consecutive upstream failures, per connection, and half-opens later', async () => {
    const now = 0;
    const resilience = createConnectionResilience({
      consecutiveFailures: 3,
      halfOpenAfterMs: 1000,
      now: () => now,
    });
    for (let i = 0; i < 3; i++) {
      await expect(resilience.execute('conn-a', upstreamDown)).rejects.toMatchObject({
        code: 'HTTP_FAILED',
      });
    }
    let called = false;
    await expect(
      resilience.execute('conn-a', async () => {
        called = true;
      }),
    ).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect(called).toBe(false);
    // Another connection of the same plugin is unaffected.
    await expect(resilience.execute('conn-b', async () => 'ok')).resolves.toBe('ok');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await expect(resilience.execute('conn-a', async () => 'recovered')).resolves.toBe('recovered');
  });

  it('counts 5xx responses as failures but not a plugin’s own refused calls', async () => {
    const resilience = createConnectionResilience({ consecutiveFailures: 2 });
    const denied = () => Promise.reject(new PluginHostError('EGRESS_DENIED', 'undeclared'));
    for (let i = 0; i < 3; i++) {
      await expect(resilience.execute('c', denied)).rejects.toMatchObject({
        code: 'EGRESS_DENIED',
      });
    }
    await resilience.execute('c', async () => ({ status: 503 }));
    await resilience.execute('c', async () => ({ status: 502 }));
    await expect(resilience.execute('c', async () => ({ status: 200 }))).rejects.toMatchObject({
      code: 'CIRCUIT_OPEN',
    });
  });

  it('rate-limits each connection with a token bucket', async () => {
    let now = 0;
    const resilience = createConnectionResilience({ ratePerSecond: 2, burst: 3, now: () => now });
    const ok = async () => 'ok';
    for (let i = 0; i < 3; i++) await resilience.execute('c', ok);
    await expect(resilience.execute('c', ok)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await expect(resilience.execute('other', ok)).resolves.toBe('ok');
    now += 500; // one token back at 2/s
    await expect(resilience.execute('c', ok)).resolves.toBe('ok');
    await expect(resilience.execute('c', ok)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });
});
