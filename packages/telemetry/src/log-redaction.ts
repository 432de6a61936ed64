// Personal data never reaches a log line: strings anywhere in a logged object, the message and
// child bindings pass through @roster/governance's detectors before pino serializes them.
import { type PiiKind, type RedactionRules, redactText } from '@roster/governance';

/** What a log redactor needs; the deployment's governance policy `redaction` section fits. */
export type LogRedactionRules = Pick<RedactionRules, 'kinds' | 'phoneRegions' | 'replacement'>;

const MAX_DEPTH = 8;

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A function that returns a redacted copy of a logged value (plain objects, arrays, errors). */
export function createLogRedactor(rules: LogRedactionRules = {}): (value: unknown) => unknown {
  const template = rules.replacement ?? '[redacted:{kind}]';
  const options = {
    ...(rules.kinds && { kinds: rules.kinds }),
    ...(rules.phoneRegions && { phoneRegions: rules.phoneRegions }),
    replacement: (kind: PiiKind) => template.replaceAll('{kind}', kind),
  };
  const text = (s: string) => (s.length === 0 ? s : redactText(s, options));
  const walk = (value: unknown, depth: number, seen: Set<object>): unknown => {
    if (typeof value === 'string') return text(value);
    if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) >= 1e8) {
      const s = String(value);
      const r = text(s);
      return r === s ? value : r;
    }
    if (typeof value !== 'object' || value === null) return value;
    // What is not walked is not printed: a cycle or a too-deep object could hold personal data.
    if (seen.has(value)) return '[Circular]';
    if (depth > MAX_DEPTH) return '[too deep]';
    seen.add(value);
    try {
      if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1, seen));
      if (value instanceof Error) {
        // A copy of the same class, so pino's error serializer still names its type.
        const copy = Object.create(Object.getPrototypeOf(value)) as Error;
        for (const [k, v] of Object.entries(value)) {
          (copy as unknown as Record<string, unknown>)[k] = walk(v, depth + 1, seen);
        }
        for (const k of ['message', 'stack', 'cause'] as const) {
          if (value[k] !== undefined) {
            Object.defineProperty(copy, k, {
              value: walk(value[k], depth + 1, seen),
              writable: true,
              configurable: true,
            });
          }
        }
        return copy;
      }
      // Class instances (requests, buffers, dates) are left to pino's serializers.
      if (!isPlain(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = walk(v, depth + 1, seen);
      return out;
    } finally {
      seen.delete(value);
    }
  };
  return (value) => walk(value, 0, new Set());
}
