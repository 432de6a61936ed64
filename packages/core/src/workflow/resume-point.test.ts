import { describe, expect, it } from 'vitest';
import type { StepOutcome } from './planner.js';
import { resumePoint } from './resume-point.js';
import type { WorkflowDefinition } from './schema.js';
import { validateWorkflowDefinition } from './validate.js';

function valid(raw: unknown): WorkflowDefinition {
  const result = validateWorkflowDefinition(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.definition;
}

const def = valid({
  start: 'fetch',
  steps: {
    fetch: {
      type: 'connector',
      connector: 'http',
      action: 'get',
      catch: [{ errors: ['NOT_FOUND'], next: 'ask' }],
      next: 'route',
    },
    route: {
      type: 'condition',
      branches: [{ when: 'steps.fetch.output.urgent', next: 'ask' }],
      default: 'file',
    },
    ask: { type: 'approval', title: 'ok?', approvers: { role: 'lead' }, next: 'file' },
    file: { type: 'connector', connector: 'erp', action: 'post', end: true },
  },
});

const outcomes = (entries: Array<[string, StepOutcome]>) => new Map(entries);

describe('resumePoint', () => {
  it('is the start when no step finished', () => {
    expect(resumePoint(def, outcomes([]))).toBe('fetch');
  });

  it('follows next, the branch a condition took and a caught failure to the first unfinished step', () => {
    expect(resumePoint(def, outcomes([['fetch', { status: 'succeeded' }]]))).toBe('route');
    expect(
      resumePoint(
        def,
        outcomes([
          ['fetch', { status: 'succeeded' }],
          ['route', { status: 'succeeded', branch: 0 }],
        ]),
      ),
    ).toBe('ask');
    expect(
      resumePoint(
        def,
        outcomes([
          ['fetch', { status: 'succeeded' }],
          ['route', { status: 'succeeded', branch: 'default' }],
        ]),
      ),
    ).toBe('file');
    expect(
      resumePoint(def, outcomes([['fetch', { status: 'failed', errorCode: 'NOT_FOUND' }]])),
    ).toBe('ask');
  });

  it('ignores finished steps off the path the run took', () => {
    // `file` finished in an earlier generation that took the default branch; this one went to ask.
    expect(
      resumePoint(
        def,
        outcomes([
          ['fetch', { status: 'failed', errorCode: 'NOT_FOUND' }],
          ['file', { status: 'succeeded' }],
        ]),
      ),
    ).toBe('ask');
  });

  it('is undefined when the path ends the run or fails it', () => {
    expect(
      resumePoint(
        def,
        outcomes([
          ['fetch', { status: 'failed', errorCode: 'NOT_FOUND' }],
          ['ask', { status: 'succeeded' }],
          ['file', { status: 'succeeded' }],
        ]),
      ),
    ).toBeUndefined();
    expect(
      resumePoint(def, outcomes([['fetch', { status: 'failed', errorCode: 'TIMEOUT' }]])),
    ).toBeUndefined();
    expect(
      resumePoint(
        def,
        outcomes([
          ['fetch', { status: 'failed', errorCode: 'NOT_FOUND' }],
          ['ask', { status: 'rejected' }],
        ]),
      ),
    ).toBeUndefined();
  });
});
