import { describe, expect, it } from 'vitest';
import {
  createJoinState,
  createMapState,
  type MapState,
  recordBranchOutcome,
  recordIterationOutcome,
} from './fan-in.js';
import {
  getStep,
  nestedStepIds,
  nextSteps,
  planMap,
  planParallel,
  selectBranch,
  startStep,
} from './planner.js';
import type { WorkflowDefinition } from './schema.js';
import { validateWorkflowDefinition } from './validate.js';

function valid(raw: unknown): WorkflowDefinition {
  const result = validateWorkflowDefinition(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.definition;
}

const def = valid({
  start: 'classify',
  steps: {
    classify: {
      type: 'decision',
      model: 'triage',
      input: 'input',
      catch: [{ errors: ['MODEL_UNAVAILABLE'], next: 'ask' }],
      next: 'route',
    },
    route: {
      type: 'condition',
      branches: [
        {
          when: 'steps.classify.output.label = "spam" and steps.classify.output.confidence > 0.9',
          next: 'drop',
        },
        { when: 'steps.classify.output.confidence > 0.8', next: 'both' },
      ],
      default: 'ask',
    },
    drop: { type: 'succeed' },
    ask: { type: 'approval', title: 'ok?', approvers: { role: 'lead' }, next: 'each' },
    both: {
      type: 'parallel',
      branches: {
        ticket: {
          start: 't1',
          steps: { t1: { type: 'connector', connector: 'http', action: 'post', end: true } },
        },
        notify: {
          start: 'n1',
          steps: {
            n1: { type: 'connector', connector: 'slack', action: 'post', next: 'n2' },
            n2: { type: 'fail', error: 'NOTIFY_DISABLED' },
          },
        },
      },
      next: 'each',
    },
    each: {
      type: 'map',
      items: 'input.lines[]',
      concurrency: 2,
      maxItems: 5,
      toleratedFailures: 1,
      iterator: {
        start: 'line',
        steps: { line: { type: 'transform', value: 'item * 2', end: true } },
      },
      end: true,
    },
  },
});

describe('nextSteps', () => {
  it('starts at start and follows next', () => {
    expect(startStep(def)).toBe('classify');
    expect(nextSteps(def, 'classify', { status: 'succeeded' })).toEqual({
      kind: 'step',
      stepId: 'route',
      via: 'next',
    });
  });

  it('routes a failure through a matching catch, or fails the scope', () => {
    expect(
      nextSteps(def, 'classify', { status: 'failed', errorCode: 'MODEL_UNAVAILABLE' }),
    ).toEqual({
      kind: 'step',
      stepId: 'ask',
      via: 'catch',
    });
    expect(nextSteps(def, 'classify', { status: 'failed', errorCode: 'TIMEOUT' })).toEqual({
      kind: 'fail',
      scope: { kind: 'root' },
      errorCode: 'TIMEOUT',
    });
  });

  it('follows the chosen condition branch or the default', () => {
    expect(nextSteps(def, 'route', { status: 'succeeded', branch: 1 })).toMatchObject({
      stepId: 'both',
    });
    expect(nextSteps(def, 'route', { status: 'succeeded', branch: 'default' })).toEqual({
      kind: 'step',
      stepId: 'ask',
      via: 'default',
    });
    expect(() => nextSteps(def, 'route', { status: 'succeeded' })).toThrow(/outcome.branch/);
    expect(() => nextSteps(def, 'route', { status: 'succeeded', branch: 2 })).toThrow(/below 2/);
  });

  it('ends the scope a step belongs to', () => {
    expect(nextSteps(def, 'drop', { status: 'succeeded' })).toEqual({
      kind: 'end',
      scope: { kind: 'root' },
    });
    expect(nextSteps(def, 't1', { status: 'succeeded' })).toEqual({
      kind: 'end',
      scope: { kind: 'branch', parallel: 'both', branch: 'ticket' },
    });
    expect(nextSteps(def, 'line', { status: 'succeeded' })).toEqual({
      kind: 'end',
      scope: { kind: 'iteration', map: 'each' },
    });
    expect(nextSteps(def, 'n2', { status: 'succeeded' })).toEqual({
      kind: 'fail',
      scope: { kind: 'branch', parallel: 'both', branch: 'notify' },
      errorCode: 'NOTIFY_DISABLED',
    });
  });

  it('fails the run on a rejection without a rejected step', () => {
    expect(nextSteps(def, 'ask', { status: 'rejected' })).toEqual({
      kind: 'fail',
      scope: { kind: 'root' },
      errorCode: 'APPROVAL_REJECTED',
    });
    expect(() => nextSteps(def, 'classify', { status: 'rejected' })).toThrow(/only approval/);
  });

  it('throws a typed error for an unknown step', () => {
    expect(() => getStep(def, 'nope')).toThrow(expect.objectContaining({ code: 'UNKNOWN_STEP' }));
  });
});

describe('selectBranch', () => {
  const scope = (label: string, confidence: number) => ({
    input: {},
    steps: { classify: { output: { label, confidence } } },
    run: { id: 'r1' },
  });

  it('takes the first truthy branch in order', async () => {
    expect(await selectBranch(def, 'route', scope('spam', 0.95))).toEqual({
      ok: true,
      branch: 0,
      next: 'drop',
    });
    expect(await selectBranch(def, 'route', scope('billing', 0.95))).toEqual({
      ok: true,
      branch: 1,
      next: 'both',
    });
    expect(await selectBranch(def, 'route', scope('billing', 0.2))).toEqual({
      ok: true,
      branch: 'default',
      next: 'ask',
    });
  });

  it('returns the expression error of the branch that failed', async () => {
    const broken = valid({
      start: 'c',
      steps: {
        c: { type: 'condition', branches: [{ when: 'input.a + "x"', next: 'd' }], default: 'd' },
        d: { type: 'succeed' },
      },
    });
    const result = await selectBranch(broken, 'c', { input: { a: 1 } });
    expect(result).toMatchObject({ ok: false, branch: 0, error: { code: 'EXPRESSION_RUNTIME' } });
  });
});

describe('parallel join', () => {
  it('lists the branches to start', () => {
    expect(planParallel(def, 'both')).toEqual({
      stepId: 'both',
      join: 'all',
      branches: [
        { name: 'ticket', start: 't1' },
        { name: 'notify', start: 'n1' },
      ],
    });
    expect(() => planParallel(def, 'each')).toThrow(/not parallel/);
  });

  it('all: waits for every branch, ignores repeats', () => {
    let join = createJoinState(planParallel(def, 'both'));
    let step = recordBranchOutcome(join, 'notify', { status: 'succeeded' });
    expect(step.decision).toEqual({ kind: 'wait' });
    join = step.state;
    expect(recordBranchOutcome(join, 'notify', { status: 'succeeded' }).decision).toEqual({
      kind: 'ignored',
    });
    step = recordBranchOutcome(join, 'ticket', { status: 'succeeded' });
    expect(step.decision).toEqual({ kind: 'proceed', cancel: [] });
    expect(step.state.settled).toBe(true);
  });

  it('all: fails fast and cancels the rest', () => {
    const join = createJoinState(planParallel(def, 'both'));
    const step = recordBranchOutcome(join, 'ticket', { status: 'failed', errorCode: 'TIMEOUT' });
    expect(step.decision).toEqual({ kind: 'fail', errorCode: 'TIMEOUT', cancel: ['notify'] });
    expect(recordBranchOutcome(step.state, 'notify', { status: 'succeeded' }).decision).toEqual({
      kind: 'ignored',
    });
  });

  it('any: proceeds on the first success, fails only when all failed', () => {
    const plan = { ...planParallel(def, 'both'), join: 'any' as const };
    const first = recordBranchOutcome(createJoinState(plan), 'ticket', {
      status: 'failed',
      errorCode: 'A',
    });
    expect(first.decision).toEqual({ kind: 'wait' });
    expect(recordBranchOutcome(first.state, 'notify', { status: 'succeeded' }).decision).toEqual({
      kind: 'proceed',
      cancel: [],
    });
    expect(
      recordBranchOutcome(first.state, 'notify', { status: 'failed', errorCode: 'B' }).decision,
    ).toEqual({
      kind: 'fail',
      errorCode: 'B',
      cancel: [],
    });
    expect(
      recordBranchOutcome(createJoinState(plan), 'notify', { status: 'succeeded' }).decision,
    ).toEqual({
      kind: 'proceed',
      cancel: ['ticket'],
    });
  });

  it('rejects a branch the parallel step does not have', () => {
    const join = createJoinState(planParallel(def, 'both'));
    expect(() => recordBranchOutcome(join, 'other', { status: 'succeeded' })).toThrow(
      /no branch "other"/,
    );
  });
});

describe('map fan-out and fan-in', () => {
  it('describes the fan-out and refuses bad item lists', () => {
    expect(planMap(def, 'each', ['a', 'b', 'c'])).toEqual({
      ok: true,
      plan: {
        stepId: 'each',
        start: 'line',
        concurrency: 2,
        toleratedFailures: 1,
        items: ['a', 'b', 'c'],
      },
    });
    expect(planMap(def, 'each', { a: 1 })).toMatchObject({
      ok: false,
      errorCode: 'MAP_ITEMS_NOT_ARRAY',
    });
    expect(planMap(def, 'each', [1, 2, 3, 4, 5, 6])).toMatchObject({
      ok: false,
      errorCode: 'MAP_TOO_MANY_ITEMS',
    });
  });

  it('an empty list proceeds at once', () => {
    const plan = planMap(def, 'each', undefined);
    if (!plan.ok) throw new Error(plan.message);
    expect(createMapState(plan.plan).decision).toEqual({ kind: 'proceed' });
  });

  it('never runs more than the cap and starts the next item as one ends', () => {
    const plan = planMap(def, 'each', [10, 20, 30, 40, 50]);
    if (!plan.ok) throw new Error(plan.message);
    const created = createMapState(plan.plan);
    expect(created.decision).toEqual({ kind: 'continue', start: [0, 1] });
    let state: MapState = created.state;
    const started: number[] = [0, 1];
    // Finish iterations out of order, the way workers do.
    for (const index of [1, 0, 3, 2, 4]) {
      const step = recordIterationOutcome(state, index, { status: 'succeeded' });
      state = step.state;
      expect(state.running.length).toBeLessThanOrEqual(2);
      if (step.decision.kind === 'continue') started.push(...step.decision.start);
      if (index === 4) expect(step.decision).toEqual({ kind: 'proceed' });
    }
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(state.succeeded).toEqual([1, 0, 3, 2, 4]);
  });

  it('tolerates failures up to the limit, then fails and cancels the running ones', () => {
    const plan = planMap(def, 'each', [1, 2, 3, 4]);
    if (!plan.ok) throw new Error(plan.message);
    let { state } = createMapState(plan.plan);
    const first = recordIterationOutcome(state, 0, { status: 'failed', errorCode: 'BAD_ROW' });
    expect(first.decision).toEqual({ kind: 'continue', start: [2] });
    state = first.state;
    const second = recordIterationOutcome(state, 2, { status: 'failed', errorCode: 'BAD_ROW' });
    expect(second.decision).toEqual({ kind: 'fail', errorCode: 'BAD_ROW', cancel: [1] });
    expect(recordIterationOutcome(second.state, 1, { status: 'succeeded' }).decision).toEqual({
      kind: 'ignored',
    });
    expect(() => recordIterationOutcome(state, 3, { status: 'succeeded' })).toThrow(
      /not started iteration 3/,
    );
  });
});

describe('nestedStepIds', () => {
  it('lists the steps of every branch and iterator, nested ones included, and nothing else', () => {
    expect(nestedStepIds(def, 'both').sort()).toEqual(['n1', 'n2', 't1']);
    expect(nestedStepIds(def, 'each')).toEqual(['line']);
    expect(nestedStepIds(def, 'classify')).toEqual([]);
    const nested = valid({
      start: 'outer',
      steps: {
        outer: {
          type: 'map',
          items: 'input.groups[]',
          iterator: {
            start: 'inner',
            steps: {
              inner: {
                type: 'parallel',
                branches: {
                  a: {
                    start: 'a1',
                    steps: { a1: { type: 'transform', value: 'item', end: true } },
                  },
                },
                end: true,
              },
            },
          },
          end: true,
        },
      },
    });
    expect(nestedStepIds(nested, 'outer')).toEqual(['inner', 'a1']);
  });
});
