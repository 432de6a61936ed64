import { GovernanceError } from '../errors.js';
import { isPiiKind, PII_KINDS, type PiiKind } from './kinds.js';

/**
 * Redaction rules as policy data (JSON/YAML), e.g.
 * `{ kinds: ['email', 'paymentCard'], maskPaths: ['customer.*.ssn', '**.password'] }`.
 */
export interface RedactionRules {
  /** Kinds detected inside every string. Default: all of PII_KINDS. */
  kinds?: PiiKind[];
  /**
   * Fields masked whole, whatever they hold: dotted paths where `*` is one key or array
   * index and `**` any number of them, e.g. `payment.card`, `contacts.*.phone`, `**.token`.
   * Default: none.
   */
  maskPaths?: string[];
  /** Regions whose national phone formats count (ISO 3166 alpha-2). Default: ['US', 'GB']. */
  phoneRegions?: string[];
  /** Replacement text for a detected value; `{kind}` is replaced by the kind. Default: `[redacted:{kind}]`. */
  replacement?: string;
  /** Replacement for a masked field. Default: `[redacted]`. */
  mask?: string;
}

const RULE_KEYS = new Set(['kinds', 'maskPaths', 'phoneRegions', 'replacement', 'mask']);

/** Checks rules read from policy data; throws REDACTION_RULES_INVALID naming what to fix. */
export function parseRedactionRules(value: unknown): RedactionRules {
  const fail = (message: string): never => {
    throw new GovernanceError('REDACTION_RULES_INVALID', `Invalid redaction rules: ${message}.`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('expected an object such as { kinds: ["email"], maskPaths: ["**.password"] }');
  }
  const rules = value as Record<string, unknown>;
  for (const key of Object.keys(rules)) {
    if (!RULE_KEYS.has(key)) fail(`unknown field "${key}"; use ${[...RULE_KEYS].join(', ')}`);
  }
  const strings = (name: string): string[] | undefined => {
    const list = rules[name];
    if (list === undefined) return undefined;
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s.length > 0)) {
      return fail(`${name} must be a list of non-empty strings`);
    }
    return list as string[];
  };
  const kinds = strings('kinds');
  for (const kind of kinds ?? []) {
    if (!isPiiKind(kind)) fail(`unknown kind "${kind}"; use one of ${PII_KINDS.join(', ')}`);
  }
  const maskPaths = strings('maskPaths');
  for (const path of maskPaths ?? []) {
    if (path.split('.').some((segment) => segment.length === 0)) {
      fail(`mask path "${path}" has an empty segment; write segments joined by single dots`);
    }
  }
  const phoneRegions = strings('phoneRegions');
  for (const region of phoneRegions ?? []) {
    if (!/^[A-Z]{2}$/.test(region))
      fail(`phone region "${region}" must be two capital letters, e.g. "GB"`);
  }
  for (const name of ['replacement', 'mask'] as const) {
    if (rules[name] !== undefined && typeof rules[name] !== 'string')
      fail(`${name} must be a string`);
  }
  return {
    ...(kinds && { kinds: kinds as PiiKind[] }),
    ...(maskPaths && { maskPaths }),
    ...(phoneRegions && { phoneRegions }),
    ...(typeof rules.replacement === 'string' && { replacement: rules.replacement }),
    ...(typeof rules.mask === 'string' && { mask: rules.mask }),
  };
}

/** Compiles mask paths into one matcher over the key path of a value. */
export function compileMaskPaths(paths: readonly string[]): (path: readonly string[]) => boolean {
  const patterns = paths.map((p) => p.split('.'));
  return (path) => patterns.some((pattern) => matches(pattern, 0, path, 0));
}

function matches(pattern: string[], pi: number, path: readonly string[], i: number): boolean {
  if (pi === pattern.length) return i === path.length;
  const segment = pattern[pi]!;
  if (segment === '**') {
    for (let k = i; k <= path.length; k++) if (matches(pattern, pi + 1, path, k)) return true;
    return false;
  }
  if (i === path.length) return false;
  return (segment === '*' || segment === path[i]) && matches(pattern, pi + 1, path, i + 1);
}
