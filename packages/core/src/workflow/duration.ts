import { CoreError } from '../errors.js';

/**
 * Durations in the DSL are strings such as `250ms`, `30s`, `5m`, `1h30m`, `7d` (units ms, s, m,
 * h, d, largest first). Readable in YAML and unambiguous, unlike bare numbers.
 */
export const DURATION_PATTERN = /^(?:\d+d)?(?:\d+h)?(?:\d+m(?!s))?(?:\d+s)?(?:\d+ms)?$/;

const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

export function isDuration(text: string): boolean {
  return text.length > 0 && DURATION_PATTERN.test(text);
}

/** Milliseconds in a duration string; throws CoreError INVALID_DURATION when malformed. */
export function parseDuration(text: string): number {
  if (!isDuration(text)) {
    throw new CoreError(
      'INVALID_DURATION',
      `"${text}" is not a duration: write it like 250ms, 30s, 5m, 1h30m or 7d`,
      { text },
    );
  }
  let total = 0;
  for (const match of text.matchAll(/(\d+)(ms|d|h|m|s)/g)) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  }
  return total;
}
