import { describe, expect, it } from 'vitest';
import { compileExpression, evaluateExpression } from './expression.js';
import { rootReferences } from './references.js';

const scope = {
  input: {
    subject: 'Invoice 42',
    lines: [
      { sku: 'a', qty: 2 },
      { sku: 'b', qty: 3 },
    ],
  },
  steps: { classify: { output: { label: 'billing', confidence: 0.93 } } },
  run: { id: 'run_1' },
};

describe('evaluate', () => {
  it('reads input, steps and run and returns plain JSON', async () => {
    const result = await evaluateExpression(
      '{ "label": steps.classify.output.label, "total": $sum(input.lines.qty), "run": run.id, "skus": input.lines.sku }',
      scope,
    );
    expect(result).toEqual({
      ok: true,
      value: { label: 'billing', total: 5, run: 'run_1', skus: ['a', 'b'] },
    });
    // No JSONata sequence markers leak into what the engine persists.
    expect(result.ok && Object.keys((result.value as { skus: object }).skus)).toEqual(['0', '1']);
  });

  it('gives undefined when nothing matches', async () => {
    expect(await evaluateExpression('input.nothing', scope)).toEqual({
      ok: true,
      value: undefined,
    });
  });

  it('reports syntax errors with their position', () => {
    const result = compileExpression('input.(subject');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('EXPRESSION_SYNTAX');
    expect(result.error.details).toMatchObject({ position: 14 });
    expect(result.error.apiCode).toBe('BAD_USER_INPUT');
  });

  it('reports runtime errors as values, not throws', async () => {
    const result = await evaluateExpression('input.subject + 1', scope);
    expect(result).toMatchObject({ ok: false, error: { code: 'EXPRESSION_RUNTIME' } });
  });

  it('refuses a function as a result', async () => {
    const result = await evaluateExpression('function($x){ $x }', scope);
    expect(result).toMatchObject({ ok: false, error: { code: 'EXPRESSION_RUNTIME' } });
  });
});

describe('guards', () => {
  it('stops a runaway (tail-recursive, never ending) expression on time', async () => {
    const started = Date.now();
    const result = await evaluateExpression('($f := function($n){ $f($n + 1) }; $f(0))', scope, {
      timeoutMs: 50,
    });
    expect(result).toMatchObject({ ok: false, error: { code: 'EXPRESSION_TIMEOUT' } });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('stops deep recursion', async () => {
    const result = await evaluateExpression(
      '($f := function($n){ 1 + $f($n + 1) }; $f(0))',
      scope,
      {
        maxDepth: 200,
      },
    );
    expect(result).toMatchObject({ ok: false, error: { code: 'EXPRESSION_TOO_DEEP' } });
  });

  it('stops huge sequences', async () => {
    const result = await evaluateExpression('$count([1..5000000])', scope, { maxSequence: 10_000 });
    expect(result).toMatchObject({ ok: false, error: { code: 'EXPRESSION_TOO_LARGE' } });
  });

  it('limits the size of the input and of the result', async () => {
    const big = { input: { text: 'x'.repeat(5000) } };
    expect(await evaluateExpression('input.text', big, { maxInputBytes: 1000 })).toMatchObject({
      ok: false,
      error: { code: 'EXPRESSION_INPUT_TOO_LARGE' },
    });
    expect(
      await evaluateExpression('$pad("", 5000, "y")', {}, { maxResultBytes: 1000 }),
    ).toMatchObject({
      ok: false,
      error: { code: 'EXPRESSION_TOO_LARGE' },
    });
  });

  it('limits the source length', () => {
    const result = compileExpression(`1${' + 1'.repeat(100)}`, { maxSourceLength: 50 });
    expect(result).toMatchObject({ ok: false, error: { code: 'EXPRESSION_SYNTAX' } });
  });

  it('evaluates within limits normally after a guarded failure', async () => {
    const compiled = compileExpression('$count(input.lines)', { timeoutMs: 50 });
    if (!compiled.ok) throw compiled.error;
    expect(await compiled.expression.evaluate(scope)).toEqual({ ok: true, value: 2 });
    expect(await compiled.expression.evaluate(scope)).toEqual({ ok: true, value: 2 });
  });
});

describe('rootReferences', () => {
  const refs = (source: string) => {
    const compiled = compileExpression(source);
    if (!compiled.ok) throw compiled.error;
    return rootReferences(compiled.expression.ast).map((r) =>
      r.key ? `${r.root}.${r.key}` : r.root,
    );
  };

  it('finds roots in functions, operators, objects, conditions and blocks', () => {
    expect(
      refs('($x := input.a; $count(steps.b.output) > 1 ? { "k": run.id } : [item, -index])'),
    ).toEqual(['input.a', 'steps.b', 'run.id', 'item', 'index']);
  });

  it('ignores paths relative to another context', () => {
    expect(refs('input.lines[qty > 1].sku')).toEqual(['input.lines']);
    expect(refs('$map(input.lines, function($l){ $l.sku & price })')).toEqual(['input.lines']);
    expect(refs('$$.steps.a.output')).toEqual(['steps.a']);
  });
});
