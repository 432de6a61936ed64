import { describe, expect, it } from 'vitest';
import { isPostgresUnreachable, startWhenPostgresAnswers } from './start-when-postgres-answers.js';

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
  code: 'ECONNREFUSED',
});
const shuttingDown = Object.assign(
  new Error('terminating connection due to administrator command'),
  {
    code: '57P01',
  },
);

describe('startWhenPostgresAnswers', () => {
  it('tries again, backing off, while Postgres cannot be reached, then starts', async () => {
    const waits: number[] = [];
    let calls = 0;
    const started = await startWhenPostgresAnswers(
      async () => {
        calls++;
        if (calls === 1) throw refused;
        if (calls === 2) throw shuttingDown;
        if (calls === 3) throw new Error('Connection terminated unexpectedly');
        return 'pool';
      },
      { sleep: async (ms) => void waits.push(ms), firstDelayMs: 100, maxDelayMs: 300 },
    );
    expect(started).toBe('pool');
    expect(waits).toEqual([100, 200, 300]);
  });

  it('throws at once an error that is not about reaching Postgres', async () => {
    const wrong = Object.assign(new Error('password authentication failed'), { code: '28P01' });
    let calls = 0;
    const outcome = startWhenPostgresAnswers(
      async () => {
        calls++;
        throw wrong;
      },
      { sleep: async () => {} },
    );
    await expect(outcome).rejects.toBe(wrong);
    expect(calls).toBe(1);
  });

  it('gives up with the last error after its deadline', async () => {
    let calls = 0;
    const outcome = startWhenPostgresAnswers(
      async () => {
        calls++;
        throw refused;
      },
      { giveUpMs: 0, sleep: async () => {} },
    );
    await expect(outcome).rejects.toBe(refused);
    expect(calls).toBe(1);
  });

  it('stops trying once the process is shutting down', async () => {
    let stopping = false;
    const outcome = await startWhenPostgresAnswers(
      async () => {
        stopping = true;
        throw refused;
      },
      { stopped: () => stopping, sleep: async () => {} },
    );
    expect(outcome).toBeUndefined();
  });
});

describe('isPostgresUnreachable', () => {
  it('tells a restarting Postgres from a refusal that will not go away', () => {
    expect(isPostgresUnreachable(refused)).toBe(true);
    expect(isPostgresUnreachable(shuttingDown)).toBe(true);
    expect(isPostgresUnreachable(Object.assign(new Error('x'), { code: '57P03' }))).toBe(true);
    expect(isPostgresUnreachable(Object.assign(new Error('no'), { code: '42501' }))).toBe(false);
    expect(isPostgresUnreachable(null)).toBe(false);
  });
});
