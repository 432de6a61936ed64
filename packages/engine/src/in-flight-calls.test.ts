import { describe, expect, it } from 'vitest';
import { StepFailure, WorkerStopping } from './errors.js';
import { InFlightCalls, parseRunStop } from './in-flight-calls.js';

const T = '0f9e6b2a-4f8e-4b55-9a57-1f3d2e8c7b10';
const R1 = '01a21e2e-2d85-703d-bad2-360d5cda3ab8';
const R2 = '01a21e2e-4136-761e-b9a5-62454a06dde1';

describe('parseRunStop', () => {
  it('reads tenant, run and status, and refuses anything else', () => {
    expect(parseRunStop(`${T}:${R1}:cancelled`)).toEqual({
      tenantId: T,
      runId: R1,
      status: 'cancelled',
    });
    expect(parseRunStop(`${T}:${R1}:cut:fork@2`)).toEqual({
      tenantId: T,
      runId: R1,
      status: 'cut',
      scope: 'fork@2',
    });
    for (const bad of [
      undefined,
      '',
      T,
      `${T}:${R1}`,
      `${T}:${R1}:failed:extra`,
      `${T}:${R1}:cut`,
      `${T}:${R1}:cut:a:b`,
      `:${R1}:failed`,
    ]) {
      expect(parseRunStop(bad)).toBeUndefined();
    }
  });
});

describe('InFlightCalls', () => {
  it("aborts only the stopped run's calls, with a fatal RUN_ENDED naming the status", () => {
    const calls = new InFlightCalls();
    const [a, b, other] = [new AbortController(), new AbortController(), new AbortController()];
    calls.track(T, R1, a);
    calls.track(T, R1, b);
    calls.track(T, R2, other);
    expect(calls.stop({ tenantId: T, runId: R1, status: 'cancelled' })).toBe(2);
    for (const c of [a, b]) {
      expect(c.signal.reason).toBeInstanceOf(StepFailure);
      expect(c.signal.reason).toMatchObject({ code: 'RUN_ENDED', options: { fatal: true } });
      expect((c.signal.reason as Error).message).toContain('cancelled');
    }
    expect(other.signal.aborted).toBe(false);
  });

  it('aborts only the calls inside a settled parallel or map step, with BRANCH_ENDED', () => {
    const calls = new InFlightCalls();
    const [top, inFork, nested, other] = [
      new AbortController(),
      new AbortController(),
      new AbortController(),
      new AbortController(),
    ];
    calls.track(T, R1, top);
    calls.track(T, R1, inFork, ['fork#a']);
    calls.track(T, R1, nested, ['each@1#0', 'fork#b']);
    calls.track(T, R1, other, ['each#2']);
    expect(calls.stop({ tenantId: T, runId: R1, status: 'cut', scope: 'fork' })).toBe(2);
    expect([top, inFork, nested, other].map((c) => c.signal.aborted)).toEqual([
      false,
      true,
      true,
      false,
    ]);
    expect(inFork.signal.reason).toMatchObject({ code: 'BRANCH_ENDED', options: { fatal: true } });
  });

  it('aborts only the calls inside one ended branch when asked by its marker', () => {
    const calls = new InFlightCalls();
    const [inA, inB, nested] = [
      new AbortController(),
      new AbortController(),
      new AbortController(),
    ];
    calls.track(T, R1, inA, ['fork#a']);
    calls.track(T, R1, inB, ['fork#b']);
    calls.track(T, R1, nested, ['each@1#0', 'fork#a']);
    expect(calls.runs()).toEqual([
      { tenantId: T, runId: R1, markers: ['fork#a', 'fork#b', 'each@1#0'] },
    ]);
    expect(calls.stopBranch(T, R1, 'fork#a')).toBe(2);
    expect([inA, inB, nested].map((c) => c.signal.aborted)).toEqual([true, false, true]);
    expect(inA.signal.reason).toMatchObject({ code: 'BRANCH_ENDED' });
    expect((inA.signal.reason as Error).message).toContain('"fork"');
  });

  it('aborts every call of every run when the worker stops', () => {
    const calls = new InFlightCalls();
    const [a, b] = [new AbortController(), new AbortController()];
    calls.track(T, R1, a, ['fork#a']);
    calls.track(T, R2, b);
    const reason = new WorkerStopping(500);
    expect(calls.stopAll(reason)).toBe(2);
    expect([a.signal.reason, b.signal.reason]).toEqual([reason, reason]);
  });

  it('forgets a call once it settles, and the run once it has none', () => {
    const calls = new InFlightCalls();
    const first = new AbortController();
    const untrack = calls.track(T, R1, first);
    const untrackOther = calls.track(T, R2, new AbortController());
    untrack();
    expect(calls.stop({ tenantId: T, runId: R1, status: 'failed' })).toBe(0);
    expect(first.signal.aborted).toBe(false);
    expect(calls.runs()).toEqual([{ tenantId: T, runId: R2, markers: [] }]);
    untrackOther();
    expect(calls.runs()).toEqual([]);
  });
});
