// The text form of a sealed personal value: `[[pd1:<subject id>:<base64url iv|tag|ciphertext>]]`.
// It has no '@' and no digits run a detector would take for personal data, so sealing is
// idempotent and redaction leaves tokens alone.

export const TOKEN_PREFIX = '[[pd1:';
const TOKEN_RE =
  /\[\[pd1:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):([A-Za-z0-9_-]+)\]\]/g;

/** What an erased (or unreadable) sealed value shows as. */
export const ERASED = '[erased]';

export interface ParsedToken {
  subjectId: string;
  packed: Buffer;
}

export function formatToken(subjectId: string, packed: Buffer): string {
  return `${TOKEN_PREFIX}${subjectId}:${packed.toString('base64url')}]]`;
}

/** Replaces every token in `text` with what `open` gives for it (synchronously, keys preloaded). */
export function replaceTokens(text: string, open: (token: ParsedToken) => string): string {
  if (!text.includes(TOKEN_PREFIX)) return text;
  return text.replace(TOKEN_RE, (_, subjectId: string, b64: string) =>
    open({ subjectId, packed: Buffer.from(b64, 'base64url') }),
  );
}

/** Subject ids of the tokens in `text`. */
export function tokenSubjects(text: string): string[] {
  if (!text.includes(TOKEN_PREFIX)) return [];
  return [...text.matchAll(TOKEN_RE)].map((m) => m[1] as string);
}

/** Every string inside a JSON-like value (object keys excluded). */
export function* stringsOf(value: unknown): Generator<string> {
  if (typeof value === 'string') {
    yield value;
  } else if (Array.isArray(value)) {
    for (const item of value) yield* stringsOf(item);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) yield* stringsOf(item);
  }
}

/** A copy of `value` with every string passed through `fn` (and `field` naming its key). */
export function mapStrings(
  value: unknown,
  fn: (text: string, field: string | undefined) => string,
  field?: string,
): unknown {
  if (typeof value === 'string') return fn(value, field);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, fn, field));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = mapStrings(item, fn, key);
    return out;
  }
  return value;
}

/** True when some string in `value` holds a sealed token (cheap: no crypto, no regex). */
export function hasSealedValues(value: unknown): boolean {
  for (const text of stringsOf(value)) if (text.includes(TOKEN_PREFIX)) return true;
  return false;
}
