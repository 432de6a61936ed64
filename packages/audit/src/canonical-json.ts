import { AuditError } from './errors.js';

/** A JSON value as parsed by `JSON.parse`: what audit records may contain. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * RFC 8785 (JSON Canonicalization Scheme): object keys sorted by UTF-16 code units, no
 * whitespace, numbers and strings serialized as ECMAScript's JSON.stringify does.
 *
 * Written here because the `canonicalize` package needs Node 22 from v2 on. Values that JSON
 * cannot represent exactly (undefined, NaN, Infinity, bigint, functions, Dates and other class
 * instances, sparse arrays, cycles) are rejected instead of being silently dropped or coerced,
 * so a hash never covers something other than what was stored. Lone surrogates are kept (as
 * JSON.stringify's `\udXXX` escapes) so hashing stays total over whatever text users send.
 */
export function canonicalize(value: unknown): string {
  return write(value, [], []);
}

/**
 * canonicalize() for values fresh from JSON.parse (no undefined, NaN or class instances can
 * occur): when every object's keys are already in order, JSON.stringify writes exactly the
 * RFC 8785 form, several times faster. Verifying large exports depends on that.
 */
export function canonicalizeParsed(value: JsonValue): string {
  return keysInOrder(value) ? JSON.stringify(value) : canonicalize(value);
}

function keysInOrder(value: JsonValue): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (!keysInOrder(item)) return false;
    return true;
  }
  let previous: string | undefined;
  // Objects list integer-like keys first in numeric order, which may not be RFC 8785 order:
  // such objects fail this check and take the slow path.
  for (const key in value) {
    if (previous !== undefined && !(previous < key)) return false;
    if (!keysInOrder(value[key]!)) return false;
    previous = key;
  }
  return true;
}

// `path` holds the keys down to `value`; it is only turned into text when something fails.
function write(value: unknown, stack: object[], path: (string | number)[]): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) {
        throw notJson(path, `the number ${value} has no JSON form; store it as a string or null`);
      }
      // Number#toString is exactly JCS's number serialization (and turns -0 into 0).
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      throw notJson(path, `a ${typeof value} has no JSON form; omit the field or store null`);
  }
  if (value === null) return 'null';
  if (stack.includes(value)) throw notJson(path, 'the value contains a cycle');
  stack.push(value);
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      if (!(i in value)) throw notJson(path, 'sparse arrays have no JSON form');
      out += `${i > 0 ? ',' : ''}${write(value[i], stack, path)}`;
      path.pop();
    }
    out += ']';
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as object).constructor?.name ?? 'object';
      throw notJson(
        path,
        `a ${name} is not plain JSON; convert it first (e.g. a Date to an ISO string)`,
      );
    }
    const record = value as Record<string, unknown>;
    // Default sort compares UTF-16 code units, which is what RFC 8785 asks for.
    const keys = Object.keys(record).sort();
    out = '{';
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      path.push(key);
      out += `${i > 0 ? ',' : ''}${JSON.stringify(key)}:${write(record[key], stack, path)}`;
      path.pop();
    }
    out += '}';
  }
  stack.pop();
  return out;
}

function notJson(keys: readonly (string | number)[], reason: string): AuditError {
  const path = `$${keys.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('')}`;
  return new AuditError('AUDIT_NOT_JSON', `Cannot canonicalize ${path}: ${reason}.`, { path });
}
