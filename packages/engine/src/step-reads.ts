import type { Step } from '@roster/core';
import { readsRun, readsSteps } from './expressions.js';

/** Whether a step reads its run (input, step outputs, state) before it runs. */
export function needsContext(step: Step): boolean {
  switch (step.type) {
    case 'connector':
    case 'decision':
    case 'review':
    case 'approval':
      return true;
    case 'transform':
      return readsRun(step.value);
    case 'condition':
      return step.branches.some((b) => readsRun(b.when));
    case 'succeed':
      return readsRun(step.output);
    case 'wait':
      return readsRun(step.until);
    case 'map':
      return readsRun(step.items);
    case 'callWorkflow':
      return true;
    default:
      return false;
  }
}

/** Whether a step reads the outputs of earlier steps. */
export function needsSteps(step: Step): boolean {
  const sources: Array<string | undefined> = [];
  if ('input' in step) sources.push(step.input);
  if ('data' in step) sources.push(step.data);
  if (step.type === 'transform') sources.push(step.value);
  if (step.type === 'condition') sources.push(...step.branches.map((b) => b.when));
  if (step.type === 'succeed') sources.push(step.output);
  if (step.type === 'wait') sources.push(step.until);
  if (step.type === 'map') sources.push(step.items);
  return sources.some(readsSteps);
}
