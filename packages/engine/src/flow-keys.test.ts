import { validateWorkflowDefinition, type WorkflowDefinition } from '@roster/core';
import { describe, expect, it } from 'vitest';
import { framesOf, parseRowKey, rowKey, visibleSteps } from './flow-keys.js';

function valid(raw: unknown): WorkflowDefinition {
  const result = validateWorkflowDefinition(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.definition;
}

const def = valid({
  start: 'outer',
  steps: {
    outer: {
      type: 'map',
      items: 'input.groups[]',
      iterator: {
        start: 'fork',
        steps: {
          fork: {
            type: 'parallel',
            branches: {
              a: {
                start: 'inner',
                steps: {
                  inner: {
                    type: 'map',
                    items: 'item.lines[]',
                    iterator: {
                      start: 'leaf',
                      steps: { leaf: { type: 'transform', value: 'item', end: true } },
                    },
                    end: true,
                  },
                },
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

describe('row keys', () => {
  it('round-trips step ids and iteration paths', () => {
    expect(rowKey('send', undefined)).toBe('send');
    expect(rowKey('send', [3, 1])).toBe('send@3.1');
    expect(parseRowKey('send@3.1')).toEqual({ stepId: 'send', path: [3, 1] });
    expect(parseRowKey('send')).toEqual({ stepId: 'send', path: [] });
  });
});

describe('framesOf', () => {
  it('names every enclosing branch and iteration, innermost first', () => {
    expect(framesOf(def, 'leaf', [2, 5])?.map((f) => f.marker)).toEqual([
      'inner@2#5',
      'fork@2#a',
      'outer#2',
    ]);
    expect(framesOf(def, 'outer', undefined)).toEqual([]);
  });

  it('refuses a path that does not fit the nesting', () => {
    expect(framesOf(def, 'leaf', [2])).toBeUndefined();
    expect(framesOf(def, 'fork', [2, 5])).toBeUndefined();
  });
});

describe('visibleSteps', () => {
  it('shows top-level steps and this iteration’s instances, never markers or other iterations', () => {
    const all = {
      start: { output: 's' },
      'leaf@2.5': { output: 'mine' },
      'leaf@2.6': { output: 'sibling' },
      'fork@2': { output: 'outer iteration' },
      'fork@3': { output: 'other iteration' },
      'outer#2': { output: 'marker' },
    };
    expect(visibleSteps(all, [2, 5])).toEqual({
      start: { output: 's' },
      leaf: { output: 'mine' },
      fork: { output: 'outer iteration' },
    });
    expect(visibleSteps(all, [])).toEqual({ start: { output: 's' } });
  });
});
