import type { PiiKind } from './kinds.js';
import { redactText } from './redact-text.js';
import { compileMaskPaths, parseRedactionRules, type RedactionRules } from './rules.js';

/** A JSON value, as logged, exported or sent to connectors. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * Makes a redactor from rules (checked with parseRedactionRules): it returns a copy of a JSON
 * value with masked paths replaced whole and detected values inside strings replaced. Object
 * keys are kept as they are. Integers of 9+ digits are checked too (a card number stored as a
 * number becomes a redacted string).
 */
export function createRedactor(rules: RedactionRules): (value: JsonValue) => JsonValue {
  const checked = parseRedactionRules(rules);
  const masked = compileMaskPaths(checked.maskPaths ?? []);
  const mask = checked.mask ?? '[redacted]';
  const template = checked.replacement ?? '[redacted:{kind}]';
  const options = {
    ...(checked.kinds && { kinds: checked.kinds }),
    ...(checked.phoneRegions && { phoneRegions: checked.phoneRegions }),
    replacement: (kind: PiiKind) => template.replaceAll('{kind}', kind),
  };
  const hasMasks = (checked.maskPaths ?? []).length > 0;

  const walk = (value: JsonValue, path: string[]): JsonValue => {
    if (hasMasks && path.length > 0 && masked(path)) return mask;
    if (typeof value === 'string') return redactText(value, options);
    if (typeof value === 'number') {
      if (!Number.isInteger(value) || Math.abs(value) < 1e8) return value;
      const text = String(value);
      const redacted = redactText(text, options);
      return redacted === text ? value : redacted;
    }
    if (value === null || typeof value === 'boolean') return value;
    if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, String(i)]));
    const out: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(value)) out[key] = walk(item, [...path, key]);
    return out;
  };
  return (value) => walk(value, []);
}

/** One-off form of createRedactor(rules)(value); build the redactor once for repeated use. */
export function redactValue(value: JsonValue, rules: RedactionRules = {}): JsonValue {
  return createRedactor(rules)(value);
}
