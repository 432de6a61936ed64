import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseWorkflowDefinition } from './parse.js';
import { workflowJsonSchema } from './schema.js';

const readmeExample = (() => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = /```yaml\n([\s\S]*?)```/.exec(readme);
  if (!block?.[1]) throw new Error('README.md lost its yaml example');
  return block[1];
})();

describe('parseWorkflowDefinition', () => {
  it('accepts the README example (email triage)', () => {
    const result = parseWorkflowDefinition(readmeExample, 'yaml');
    expect(result.problems).toEqual([]);
    expect(result.ok && result.definition.steps.route?.type).toBe('condition');
  });

  it('reads JSON, and detects it without a format', () => {
    const json = JSON.stringify({ start: 'a', steps: { a: { type: 'succeed' } } });
    expect(parseWorkflowDefinition(json, 'json').ok).toBe(true);
    expect(parseWorkflowDefinition(json).ok).toBe(true);
  });

  it('takes an object as it is', () => {
    expect(parseWorkflowDefinition({ start: 'a', steps: { a: { type: 'succeed' } } }).ok).toBe(
      true,
    );
  });

  it('reports a YAML syntax error with its line and column', () => {
    const text = 'start: a\nsteps:\n  a: { type: succeed\n  b: 1\n';
    const result = parseWorkflowDefinition(text, 'yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]).toMatchObject({ code: 'PARSE_ERROR', path: '' });
    expect(result.problems[0]?.line).toBeGreaterThanOrEqual(3);
    expect(result.problems[0]?.message).toMatch(/^YAML does not parse/);
  });

  it('reports duplicate YAML keys at the second key', () => {
    const text = 'start: a\nsteps:\n  a: { type: succeed }\n  a: { type: succeed }\n';
    const result = parseWorkflowDefinition(text, 'yaml');
    expect(result.ok ? [] : result.problems.map((p) => [p.code, p.line])).toEqual([
      ['PARSE_ERROR', 4],
    ]);
  });

  it('rejects comments in JSON', () => {
    const result = parseWorkflowDefinition('{ "start": "a", # hi\n "steps": {} }', 'json');
    expect(result.ok ? [] : result.problems.map((p) => p.code)).toEqual(['PARSE_ERROR']);
  });

  it('locates validation problems in the source', () => {
    const text = [
      'start: classify', //                                         line 1
      'steps:',
      '  classify:',
      '    type: decision',
      '    model: triage',
      '    input: input.body',
      '    next: rout', //                                             line 7
      '  rout_typo:',
      '    type: succeed',
      '    colour: red', //                                            line 10
    ].join('\n');
    const result = parseWorkflowDefinition(text, 'yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(
      result.problems.map(({ path, code, line, column }) => ({ path, code, line, column })),
    ).toEqual([
      { path: 'steps.classify.next', code: 'UNKNOWN_STEP', line: 7, column: 11 },
      { path: 'steps.rout_typo', code: 'UNREACHABLE_STEP', line: 9, column: 5 },
      { path: 'steps.rout_typo.colour', code: 'UNKNOWN_FIELD', line: 10, column: 5 },
    ]);
  });

  it('points a missing field at its parent', () => {
    const result = parseWorkflowDefinition('start: a\nsteps:\n  a:\n    type: fail\n', 'yaml');
    expect(result.ok ? [] : result.problems.map((p) => [p.path, p.code, p.line])).toEqual([
      ['steps.a.error', 'REQUIRED', 4],
    ]);
  });

  it('refuses sources over the size limit', () => {
    const result = parseWorkflowDefinition(`# ${'x'.repeat(200)}\nstart: a`, 'yaml', {
      maxSourceBytes: 100,
    });
    expect(result.ok ? [] : result.problems.map((p) => p.code)).toEqual(['SOURCE_TOO_LARGE']);
  });

  it('stops YAML alias bombs', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) {
      const prev = `*a${i - 1}`;
      lines.push(`a${i}: &a${i} [${Array(10).fill(prev).join(', ')}]`);
    }
    const result = parseWorkflowDefinition(`${lines.join('\n')}\nstart: a\n`, 'yaml');
    expect(result.ok ? [] : result.problems.map((p) => p.code)).toEqual(['PARSE_ERROR']);
  });
});

describe('workflowJsonSchema', () => {
  it('describes every step type and the required fields', () => {
    const schema = workflowJsonSchema() as {
      required: string[];
      properties: Record<string, unknown>;
      $defs: Record<string, { oneOf?: Array<{ properties: { type: { const: string } } }> }>;
    };
    expect(schema.required).toEqual(['start', 'steps']);
    const union = Object.values(schema.$defs).find((d) => d.oneOf);
    expect(union?.oneOf?.map((s) => s.properties.type.const)).toEqual([
      'connector',
      'decision',
      'review',
      'approval',
      'condition',
      'transform',
      'parallel',
      'map',
      'wait',
      'callWorkflow',
      'succeed',
      'fail',
    ]);
  });
});
