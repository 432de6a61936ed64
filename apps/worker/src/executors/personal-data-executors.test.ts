import type { ConnectorStep } from '@roster/core';
import type { Pool } from '@roster/db';
import { type ExecutorCall, ExecutorRegistry } from '@roster/engine';
import type { PersonalDataVault } from '@roster/governance';
import { describe, expect, it } from 'vitest';
import { withPersonalData } from './personal-data-executors.js';

// A pool that counts transactions (withTenant connects once per transaction) and a vault that
// records what it was asked: the wrapper must leave steps with nothing personal alone.
function fakes() {
  const used = { connects: 0, opened: [] as unknown[], sealed: [] as unknown[] };
  const client = { query: async () => ({ rows: [] }), release: () => {} };
  const pool = {
    connect: async () => {
      used.connects++;
      return client;
    },
  } as unknown as Pool;
  const vault: PersonalDataVault = {
    seal: async (_c, _t, value) => {
      used.sealed.push(value);
      return { sealed: true };
    },
    open: async (_c, _t, value) => {
      used.opened.push(value);
      return { from: 'jane@example.com' };
    },
  };
  return { used, pool, vault };
}

const call = (input: unknown) =>
  ({
    tenantId: '00000000-0000-4000-8000-000000000001',
    runId: 'r',
    stepId: 's',
    attempt: 1,
    idempotencyKey: 'r/s',
    input,
    signal: new AbortController().signal,
    deadline: new Date(),
    step: { type: 'connector', connector: 'c', action: 'a' } as unknown as ConnectorStep,
  }) as ExecutorCall & { step: ConnectorStep };

describe('withPersonalData executors', () => {
  it('costs no query when the input holds no token and the output no address', async () => {
    const { used, pool, vault } = fakes();
    const seen: unknown[] = [];
    const inner = new ExecutorRegistry().registerConnector(async (c) => {
      seen.push(c.input);
      return { output: { status: 'sent', count: 2 } };
    });
    const result = await withPersonalData(inner, { pool, vault }).connector()(call({ n: 1 }));
    expect(result).toEqual({ output: { status: 'sent', count: 2 } });
    expect(seen).toEqual([{ n: 1 }]);
    expect(used).toEqual({ connects: 0, opened: [], sealed: [] });
  });

  it('opens a sealed input for the call and seals an output that holds an address', async () => {
    const { used, pool, vault } = fakes();
    const seen: unknown[] = [];
    const inner = new ExecutorRegistry().registerConnector(async (c) => {
      seen.push(c.input);
      return { output: { repliedTo: (c.input as { from: string }).from } };
    });
    const token = `[[pd1:00000000-0000-4000-8000-000000000002:abc]]`;
    const result = await withPersonalData(inner, { pool, vault }).connector()(
      call({ from: token }),
    );
    expect(seen).toEqual([{ from: 'jane@example.com' }]);
    expect(used.opened).toEqual([{ from: token }]);
    expect(used.sealed).toEqual([{ repliedTo: 'jane@example.com' }]);
    expect(result).toEqual({ output: { sealed: true } });
  });
});
