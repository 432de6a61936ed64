import { describe, expect, it } from 'vitest';
import type { Problem } from './problems.js';
import { validateWorkflowDefinition } from './validate.js';

type Json = Record<string, unknown>;

/** A small valid workflow: classify -> route -> (act | ask). */
function base(): Json {
  return {
    start: 'classify',
    steps: {
      classify: { type: 'decision', model: 'triage', input: 'input.body', next: 'route' },
      route: {
        type: 'condition',
        branches: [{ when: 'steps.classify.output.confidence >= 0.9', next: 'act' }],
        default: 'ask',
      },
      act: { type: 'connector', connector: 'slack', action: 'postMessage', end: true },
      ask: { type: 'review', title: 'Check it', end: true },
    },
  };
}

function steps(def: Json): Record<string, Json> {
  return def.steps as Record<string, Json>;
}

function problemsOf(def: unknown): Array<Pick<Problem, 'path' | 'code'>> {
  const result = validateWorkflowDefinition(def);
  if (result.ok) return [];
  return result.problems.map(({ path, code }) => ({ path, code }));
}

describe('valid definitions', () => {
  it('accepts the base workflow and applies defaults', () => {
    const result = validateWorkflowDefinition(base());
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.definition.dsl).toBe(1);
  });

  it('accepts every step type, nested scopes and item/index inside a map', () => {
    const def = {
      start: 'fan',
      deadline: '1h',
      concurrency: { maxRuns: 3, key: 'input.customer', maxRunsPerKey: 1 },
      defaults: {
        timeout: '30s',
        retry: { maxAttempts: 2, backoff: { initial: '1s', max: '10s' } },
      },
      steps: {
        fan: {
          type: 'parallel',
          join: 'any',
          branches: {
            left: {
              start: 'l1',
              steps: { l1: { type: 'transform', value: 'input.a', end: true } },
            },
            right: {
              start: 'r1',
              steps: {
                r1: { type: 'wait', duration: '5m', next: 'r2' },
                r2: { type: 'succeed', output: 'steps.r1' },
              },
            },
          },
          next: 'each',
        },
        each: {
          type: 'map',
          items: 'input.lines[]',
          concurrency: 4,
          iterator: {
            start: 'price',
            steps: {
              price: {
                type: 'connector',
                connector: 'http',
                action: 'request',
                input: '{ "sku": item.sku, "n": index }',
                end: true,
              },
            },
          },
          next: 'approve',
        },
        approve: {
          type: 'approval',
          title: 'Send?',
          approvers: { role: 'manager' },
          rejected: 'stop',
          next: 'sub',
        },
        sub: {
          type: 'callWorkflow',
          workflow: 'notify',
          input: '{ "lines": steps.each.output }',
          next: 'later',
        },
        later: { type: 'wait', until: '$fromMillis($millis() + 1000)', end: true },
        stop: { type: 'fail', error: 'NOT_APPROVED', message: 'the manager said no' },
      },
      output: 'steps.each.output',
    };
    expect(problemsOf(def)).toEqual([]);
  });

  it('accepts a catch edge that skips forward', () => {
    const def = base();
    steps(def).act = { ...steps(def).act, catch: [{ errors: ['*'], next: 'ask' }] };
    expect(problemsOf(def)).toEqual([]);
  });
});

describe('bad definitions report each problem at its path', () => {
  const cases: Array<[string, (def: Json) => void, Array<{ path: string; code: string }>]> = [
    ['missing start', (d) => delete d.start, [{ path: 'start', code: 'REQUIRED' }]],
    // Reachability is not judged from a start that does not exist (it would flag every step).
    ['start names no step', (d) => (d.start = 'nope'), [{ path: 'start', code: 'UNKNOWN_STEP' }]],
    [
      'next names no step',
      (d) => (steps(d).classify!.next = 'rout'),
      [
        { path: 'steps.act', code: 'UNREACHABLE_STEP' },
        { path: 'steps.ask', code: 'UNREACHABLE_STEP' },
        { path: 'steps.classify.next', code: 'UNKNOWN_STEP' },
        { path: 'steps.route', code: 'UNREACHABLE_STEP' },
      ],
    ],
    [
      'unknown step type',
      (d) => (steps(d).act!.type = 'email'),
      [{ path: 'steps.act.type', code: 'INVALID_VALUE' }],
    ],
    [
      'missing step type',
      (d) => delete steps(d).act!.type,
      [{ path: 'steps.act.type', code: 'REQUIRED' }],
    ],
    [
      'missing required field',
      (d) => delete steps(d).classify!.model,
      [{ path: 'steps.classify.model', code: 'REQUIRED' }],
    ],
    [
      'wrong type',
      (d) => (steps(d).ask!.title = 42),
      [{ path: 'steps.ask.title', code: 'INVALID_TYPE' }],
    ],
    [
      'misspelt field',
      (d) => (steps(d).ask!.titel = 'x'),
      [{ path: 'steps.ask.titel', code: 'UNKNOWN_FIELD' }],
    ],
    [
      'bad duration',
      (d) => (steps(d).act!.timeout = '10 seconds'),
      [{ path: 'steps.act.timeout', code: 'INVALID_DURATION' }],
    ],
    [
      'bad step id',
      (d) => {
        steps(d)['my-step'] = { type: 'review', title: 't', end: true };
        steps(d).route!.default = 'my-step';
        delete steps(d).ask;
      },
      [
        { path: 'steps.my-step', code: 'INVALID_STEP_ID' },
        { path: 'steps.route.default', code: 'INVALID_STEP_ID' },
      ],
    ],
    [
      'neither next nor end',
      (d) => delete steps(d).act!.end,
      [{ path: 'steps.act.next', code: 'MISSING_TRANSITION' }],
    ],
    [
      'both next and end',
      (d) => (steps(d).act!.next = 'ask'),
      [{ path: 'steps.act.end', code: 'CONFLICTING_FIELDS' }],
    ],
    [
      'unreachable step',
      (d) => (steps(d).orphan = { type: 'transform', value: '1', end: true }),
      [{ path: 'steps.orphan', code: 'UNREACHABLE_STEP' }],
    ],
    [
      'bad expression',
      (d) => (steps(d).classify!.input = 'input.(body'),
      [{ path: 'steps.classify.input', code: 'BAD_EXPRESSION' }],
    ],
    [
      'expression reads an unknown root',
      (d) => (steps(d).classify!.input = 'inptu.body'),
      [{ path: 'steps.classify.input', code: 'UNKNOWN_REFERENCE' }],
    ],
    [
      'expression reads an unknown step',
      (d) => {
        (steps(d).route!.branches as Json[])[0]!.when = 'steps.clasify.output.confidence > 0.5';
      },
      [{ path: 'steps.route.branches.0.when', code: 'UNKNOWN_STEP' }],
    ],
    [
      'condition without default',
      (d) => delete steps(d).route!.default,
      [
        { path: 'steps.ask', code: 'UNREACHABLE_STEP' },
        { path: 'steps.route.default', code: 'REQUIRED' },
      ],
    ],
    [
      'condition with no branches',
      (d) => (steps(d).route!.branches = []),
      [
        { path: 'steps.act', code: 'UNREACHABLE_STEP' },
        { path: 'steps.route.branches', code: 'OUT_OF_RANGE' },
      ],
    ],
    [
      'retry with bad numbers',
      (d) => (steps(d).act!.retry = { maxAttempts: 0, backoff: { multiplier: 0.5 } }),
      [
        { path: 'steps.act.retry.backoff.multiplier', code: 'OUT_OF_RANGE' },
        { path: 'steps.act.retry.maxAttempts', code: 'OUT_OF_RANGE' },
      ],
    ],
    [
      'backoff initial above max',
      (d) => (steps(d).act!.retry = { backoff: { initial: '2m', max: '30s' } }),
      [{ path: 'steps.act.retry.backoff.initial', code: 'INVALID_BACKOFF' }],
    ],
    [
      'a code both retryable and fatal',
      (d) => (steps(d).act!.retry = { retryable: ['TIMEOUT'], fatal: ['TIMEOUT'] }),
      [{ path: 'steps.act.retry.fatal', code: 'CONFLICTING_FIELDS' }],
    ],
    [
      'lower-case error code',
      (d) => (steps(d).act!.retry = { fatal: ['timeout'] }),
      [{ path: 'steps.act.retry.fatal.0', code: 'INVALID_ERROR_CODE' }],
    ],
    [
      'wait with both duration and until',
      (d) => (steps(d).act = { type: 'wait', duration: '1m', until: 'input.at', end: true }),
      [{ path: 'steps.act.until', code: 'CONFLICTING_FIELDS' }],
    ],
    [
      'wait with neither',
      (d) => (steps(d).act = { type: 'wait', end: true }),
      [{ path: 'steps.act.duration', code: 'REQUIRED' }],
    ],
    [
      'approval without approvers',
      (d) => (steps(d).act = { type: 'approval', title: 't', approvers: {}, end: true }),
      [{ path: 'steps.act.approvers', code: 'REQUIRED' }],
    ],
    [
      'map concurrency 0',
      (d) =>
        (steps(d).act = {
          type: 'map',
          items: 'input.x',
          concurrency: 0,
          end: true,
          iterator: {
            start: 'one',
            steps: { one: { type: 'transform', value: 'item', end: true } },
          },
        }),
      [{ path: 'steps.act.concurrency', code: 'OUT_OF_RANGE' }],
    ],
    [
      'item used outside a map',
      (d) => (steps(d).classify!.input = 'item.body'),
      [{ path: 'steps.classify.input', code: 'UNKNOWN_REFERENCE' }],
    ],
    [
      'concurrency key without a limit',
      (d) => (d.concurrency = { key: 'input.customer' }),
      [{ path: 'concurrency.maxRunsPerKey', code: 'REQUIRED' }],
    ],
    [
      'unknown top-level field',
      (d) => (d.timeout = '1m'),
      [{ path: 'timeout', code: 'UNKNOWN_FIELD' }],
    ],
    ['wrong dsl version', (d) => (d.dsl = 2), [{ path: 'dsl', code: 'INVALID_VALUE' }]],
    [
      'steps is a list',
      (d) => (d.steps = []),
      [
        { path: 'start', code: 'UNKNOWN_STEP' },
        { path: 'steps', code: 'INVALID_TYPE' },
      ],
    ],
  ];

  it.each(cases)('%s', (_name, mutate, expected) => {
    const def = base();
    mutate(def);
    expect(problemsOf(def)).toEqual(expected);
  });

  it('says how to fix it', () => {
    const def = base();
    steps(def).classify!.next = 'rout';
    const result = validateWorkflowDefinition(def);
    const unknown = result.ok ? undefined : result.problems.find((p) => p.code === 'UNKNOWN_STEP');
    expect(unknown?.message).toContain('use one of classify, route, act, ask');
  });

  it('asks for whole numbers where counts are expected', () => {
    const def = base();
    steps(def).act!.retry = { maxAttempts: 2.5 };
    const result = validateWorkflowDefinition(def);
    expect(result.ok ? [] : result.problems.map((p) => [p.path, p.code, p.message])).toEqual([
      [
        'steps.act.retry.maxAttempts',
        'INVALID_TYPE',
        'steps.act.retry.maxAttempts must be a whole number, not number 2.5',
      ],
    ]);
  });

  it('rejects a value that is not an object', () => {
    expect(problemsOf('start: a')).toEqual([{ path: '', code: 'INVALID_TYPE' }]);
  });
});

describe('all problems at once, in a stable order', () => {
  it('collects shape, graph and expression problems together', () => {
    const def = base();
    steps(def).classify!.input = 'input.body +';
    steps(def).act!.timeout = 'soon';
    steps(def).ask!.next = 'nowhere';
    delete steps(def).ask!.end;
    steps(def).extra = { type: 'transform', value: 'input', end: true };
    expect(problemsOf(def)).toEqual([
      { path: 'steps.act.timeout', code: 'INVALID_DURATION' },
      { path: 'steps.ask.next', code: 'UNKNOWN_STEP' },
      { path: 'steps.classify.input', code: 'BAD_EXPRESSION' },
      { path: 'steps.extra', code: 'UNREACHABLE_STEP' },
    ]);
  });

  it('gives the same list whatever the key order', () => {
    const def = base();
    steps(def).act!.retry = { maxAttempts: 0 };
    steps(def).ask!.extra = true;
    const reversed = { ...def, steps: Object.fromEntries(Object.entries(steps(def)).reverse()) };
    expect(problemsOf(reversed)).toEqual(problemsOf(def));
    expect(problemsOf(def)).toHaveLength(2);
  });
});

describe('cycles', () => {
  it('reports a plain next loop at the edge that closes it', () => {
    const def = {
      start: 'a',
      steps: {
        a: { type: 'transform', value: '1', next: 'b' },
        b: { type: 'transform', value: '2', next: 'c' },
        c: { type: 'transform', value: '3', next: 'a' },
      },
    };
    const result = validateWorkflowDefinition(def);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map(({ path, code }) => ({ path, code }))).toEqual([
      { path: 'steps.c.next', code: 'CYCLE' },
    ]);
    expect(result.problems[0]?.message).toContain('a -> b -> c -> a');
    expect(result.problems[0]?.message).toContain('retry');
  });

  it('reports a self loop and a loop through a condition branch', () => {
    const def = {
      start: 'check',
      steps: {
        check: {
          type: 'condition',
          branches: [{ when: 'input.again', next: 'work' }],
          default: 'done',
        },
        work: { type: 'connector', connector: 'http', action: 'get', next: 'check' },
        done: { type: 'transform', value: '1', next: 'done' },
      },
    };
    expect(problemsOf(def)).toEqual([
      { path: 'steps.done.next', code: 'CYCLE' },
      { path: 'steps.work.next', code: 'CYCLE' },
    ]);
  });

  it('reports a loop through catch and one inside a parallel branch', () => {
    const def = {
      start: 'call',
      steps: {
        call: {
          type: 'connector',
          connector: 'http',
          action: 'get',
          catch: [{ errors: ['TIMEOUT'], next: 'call' }],
          next: 'both',
        },
        both: {
          type: 'parallel',
          branches: {
            one: {
              start: 'x',
              steps: {
                x: { type: 'transform', value: '1', next: 'y' },
                y: { type: 'transform', value: '2', next: 'x' },
              },
            },
          },
          end: true,
        },
      },
    };
    expect(problemsOf(def)).toEqual([
      { path: 'steps.both.branches.one.steps.y.next', code: 'CYCLE' },
      { path: 'steps.call.catch.0.next', code: 'CYCLE' },
    ]);
  });

  it('accepts a diamond (two paths to one step are not a loop)', () => {
    const def = {
      start: 'split',
      steps: {
        split: {
          type: 'condition',
          branches: [{ when: 'input.a', next: 'left' }],
          default: 'right',
        },
        left: { type: 'transform', value: '1', next: 'join' },
        right: { type: 'transform', value: '2', next: 'join' },
        join: { type: 'transform', value: '3', end: true },
      },
    };
    expect(problemsOf(def)).toEqual([]);
  });
});

describe('nested scopes', () => {
  it('keeps transitions inside their branch and ids unique everywhere', () => {
    const def = {
      start: 'a',
      steps: {
        a: {
          type: 'parallel',
          branches: {
            one: {
              start: 'b',
              steps: { b: { type: 'transform', value: '1', next: 'done' } },
            },
            two: { start: 'a', steps: { a: { type: 'transform', value: '2', end: true } } },
          },
          next: 'done',
        },
        done: { type: 'succeed' },
      },
    };
    const result = validateWorkflowDefinition(def);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map(({ path, code }) => ({ path, code }))).toEqual([
      { path: 'steps.a.branches.one.steps.b.next', code: 'UNKNOWN_STEP' },
      { path: 'steps.a.branches.two.steps.a', code: 'DUPLICATE_STEP_ID' },
    ]);
    expect(result.problems[0]?.message).toContain('outside branch "one" of parallel step "a"');
  });

  it('reports an iterator whose start is missing', () => {
    const def = {
      start: 'each',
      steps: {
        each: {
          type: 'map',
          items: 'input.list',
          iterator: { steps: { one: { type: 'transform', value: 'item', end: true } } },
          end: true,
        },
      },
    };
    expect(problemsOf(def)).toEqual([{ path: 'steps.each.iterator.start', code: 'REQUIRED' }]);
  });
});
