import { type CompiledExpression, compileExpression } from '@roster/core';
import { StepFailure } from './errors.js';

const compiled = new Map<string, CompiledExpression>();

/** Evaluates a DSL expression (compiled once per source per process); failures are fatal. */
export async function evaluate(source: string, scope: unknown): Promise<unknown> {
  let expression = compiled.get(source);
  if (!expression) {
    const result = compileExpression(source);
    if (!result.ok) throw new StepFailure(result.error.code, result.error.message, { fatal: true });
    expression = result.expression;
    if (compiled.size > 5000) compiled.clear();
    compiled.set(source, expression);
  }
  const result = await expression.evaluate(scope);
  if (!result.ok) throw new StepFailure(result.error.code, result.error.message, { fatal: true });
  return result.value;
}

/** Whether an expression may read the run (`input`, `steps`, `run`): a cheap, safe over-estimate. */
export function readsRun(source: string | undefined): boolean {
  return source !== undefined && /\b(input|steps|run)\b/.test(source);
}

export function readsSteps(source: string | undefined): boolean {
  return source !== undefined && /\bsteps\b/.test(source);
}
