import jsonata from 'jsonata';
import { CoreError, type CoreErrorCode } from '../errors.js';

/**
 * A guarded wrapper over JSONata 2 (the expression language AWS Step Functions adopted).
 * JSONata checks its guardrails on entry to every AST node, so a runaway recursion or a huge
 * range is stopped in-process; a single slow built-in call (one giant regex or `$pad`) can still
 * overshoot the time budget, which is why the engine also bounds the whole step.
 */
export interface ExpressionLimits {
  /** Wall-clock budget of one evaluation, ms. Default 1000. */
  timeoutMs?: number;
  /** Deepest evaluation nesting (recursion). Default 500. */
  maxDepth?: number;
  /** Longest sequence (array) built while evaluating. Default 100_000. */
  maxSequence?: number;
  /** Largest input (the scope, as JSON), bytes. Default 1 MiB. */
  maxInputBytes?: number;
  /** Largest result, as JSON, bytes. Default 1 MiB. */
  maxResultBytes?: number;
  /** Longest expression source, characters. Default 10_000. */
  maxSourceLength?: number;
}

export const DEFAULT_EXPRESSION_LIMITS: Required<ExpressionLimits> = {
  timeoutMs: 1000,
  maxDepth: 500,
  maxSequence: 100_000,
  maxInputBytes: 1024 * 1024,
  maxResultBytes: 1024 * 1024,
  maxSourceLength: 10_000,
};

export type ExpressionResult = { ok: true; value: unknown } | { ok: false; error: CoreError };

export interface CompiledExpression {
  readonly source: string;
  /** The parsed JSONata tree, for static checks. */
  readonly ast: jsonata.ExprNode;
  /**
   * Evaluates against `scope` (normally `{ input, steps, run }`). Never throws: failures come
   * back as `{ ok: false, error }` with a CoreError code. The value is plain JSON (or undefined
   * when nothing matched).
   */
  evaluate(scope: unknown): Promise<ExpressionResult>;
}

export type CompileResult =
  | { ok: true; expression: CompiledExpression }
  | { ok: false; error: CoreError };

interface JsonataFailure {
  code?: string;
  message?: string;
  position?: number;
  token?: string;
}

function asFailure(error: unknown): JsonataFailure {
  return typeof error === 'object' && error !== null ? (error as JsonataFailure) : {};
}

export function compileExpression(source: string, limits: ExpressionLimits = {}): CompileResult {
  const l = { ...DEFAULT_EXPRESSION_LIMITS, ...limits };
  if (source.length > l.maxSourceLength) {
    return {
      ok: false,
      error: new CoreError(
        'EXPRESSION_SYNTAX',
        `The expression is ${source.length} characters long; the limit is ${l.maxSourceLength}: move logic into a transform step or a connector`,
        { length: source.length, limit: l.maxSourceLength },
      ),
    };
  }
  let compiled: jsonata.Expression;
  try {
    compiled = jsonata(source, {
      timeout: l.timeoutMs,
      stack: l.maxDepth,
      sequence: l.maxSequence,
    });
  } catch (error) {
    const f = asFailure(error);
    return {
      ok: false,
      error: new CoreError(
        'EXPRESSION_SYNTAX',
        `Expression does not parse at position ${f.position ?? 0}: ${f.message ?? String(error)}`,
        { position: f.position, token: f.token, jsonataCode: f.code },
        { cause: error, apiCode: 'BAD_USER_INPUT' },
      ),
    };
  }
  const ast = compiled.ast();
  return {
    ok: true,
    expression: { source, ast, evaluate: (scope) => evaluateCompiled(compiled, source, scope, l) },
  };
}

async function evaluateCompiled(
  compiled: jsonata.Expression,
  source: string,
  scope: unknown,
  l: Required<ExpressionLimits>,
): Promise<ExpressionResult> {
  const inputBytes = jsonBytes(scope);
  if (inputBytes === undefined || inputBytes > l.maxInputBytes) {
    return fail(
      'EXPRESSION_INPUT_TOO_LARGE',
      inputBytes === undefined
        ? 'The expression input is not JSON data: pass plain objects, arrays, strings, numbers and booleans'
        : `The expression input is ${inputBytes} bytes; the limit is ${l.maxInputBytes}: pass less data between steps (store large payloads and pass a reference)`,
      { source, inputBytes, limit: l.maxInputBytes },
    );
  }
  let value: unknown;
  try {
    value = await compiled.evaluate(scope);
  } catch (error) {
    return fromEvaluationError(error, source, l);
  }
  if (value === undefined) return { ok: true, value: undefined };
  // A JSON round trip strips JSONata's sequence markers and gives the engine plain data to persist.
  // JSONata lambdas are objects holding their (circular) environment, so stringify rejects them.
  let text: string | undefined;
  try {
    text = typeof value === 'function' ? undefined : JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) {
    return fail(
      'EXPRESSION_RUNTIME',
      'The expression returned a function or other non-JSON value: call the function, or return data',
      { source },
    );
  }
  const resultBytes = Buffer.byteLength(text);
  if (resultBytes > l.maxResultBytes) {
    return fail(
      'EXPRESSION_TOO_LARGE',
      `The expression result is ${resultBytes} bytes; the limit is ${l.maxResultBytes}: select fewer fields`,
      { source, resultBytes, limit: l.maxResultBytes },
    );
  }
  return { ok: true, value: JSON.parse(text) };
}

function fromEvaluationError(
  error: unknown,
  source: string,
  l: Required<ExpressionLimits>,
): ExpressionResult {
  const f = asFailure(error);
  const details = { source, position: f.position, jsonataCode: f.code };
  if (f.code === 'D1012') {
    return fail(
      'EXPRESSION_TIMEOUT',
      `The expression ran longer than ${l.timeoutMs} ms and was stopped: look for unbounded recursion or work over very large data`,
      details,
      error,
    );
  }
  if (f.code === 'D1011' || error instanceof RangeError) {
    return fail(
      'EXPRESSION_TOO_DEEP',
      `The expression nested deeper than ${l.maxDepth} levels and was stopped: make recursion terminate or tail-recursive`,
      details,
      error,
    );
  }
  if (f.code === 'D2014' || f.code === 'D2015') {
    return fail(
      'EXPRESSION_TOO_LARGE',
      `The expression built a sequence longer than ${l.maxSequence} items and was stopped: use a smaller range or filter earlier`,
      details,
      error,
    );
  }
  return fail(
    'EXPRESSION_RUNTIME',
    `The expression failed${f.position === undefined ? '' : ` at position ${f.position}`}: ${f.message ?? String(error)}`,
    details,
    error,
  );
}

function fail(
  code: CoreErrorCode,
  message: string,
  details: Record<string, unknown>,
  cause?: unknown,
): ExpressionResult {
  return {
    ok: false,
    error: new CoreError(code, message, details, { cause, apiCode: 'BAD_USER_INPUT' }),
  };
}

function jsonBytes(value: unknown): number | undefined {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? 0 : Buffer.byteLength(text);
  } catch {
    return undefined;
  }
}

/** Compiles and evaluates in one call; syntax errors come back as results too. */
export async function evaluateExpression(
  source: string,
  scope: unknown,
  limits?: ExpressionLimits,
): Promise<ExpressionResult> {
  const compiled = compileExpression(source, limits);
  return compiled.ok ? compiled.expression.evaluate(scope) : compiled;
}
