import {
  type CountryCode,
  findPhoneNumbersInText,
  isSupportedCountry,
} from 'libphonenumber-js/max';
import type { Detection } from './kinds.js';

/** Regions whose national formats are recognised when none are configured. */
export const DEFAULT_PHONE_REGIONS: readonly string[] = ['US', 'GB'];

// Shapes that libphonenumber can read as a national number in some regions (e.g. 2024-01-15
// as a German number) but that are dates, times or version numbers.
const NOT_PHONES = [
  /^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$/, // 2024-01-15
  /^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$/, // 15.01.2024, 1/15/24
  /^\d{1,2}:\d{2}(:\d{2})?$/, // 12:30:45
];

/**
 * Phone numbers that libphonenumber-js (full metadata) considers valid: international numbers
 * ("+44 20 7946 0958") always, national ones ("(415) 555-2671") for the given regions.
 */
export function detectPhones(
  text: string,
  regions: readonly string[] = DEFAULT_PHONE_REGIONS,
): Detection[] {
  // Cheap exit: no valid number has fewer than 7 digits, and most text has none.
  if ((text.match(/\d/g)?.length ?? 0) < 7) return [];
  const found = new Map<string, Detection>();
  const passes: (CountryCode | undefined)[] = regions.length === 0 ? [undefined] : [];
  for (const region of regions) {
    if (isSupportedCountry(region)) passes.push(region);
  }
  for (const defaultCountry of passes) {
    for (const hit of findPhoneNumbersInText(text, { defaultCountry })) {
      if (!hit.number.isValid() || looksLikeSomethingElse(text, hit.startsAt, hit.endsAt)) continue;
      found.set(`${hit.startsAt}:${hit.endsAt}`, {
        kind: 'phone',
        start: hit.startsAt,
        end: hit.endsAt,
      });
    }
  }
  return [...found.values()];
}

function looksLikeSomethingElse(text: string, start: number, end: number): boolean {
  const candidate = text.slice(start, end);
  if (NOT_PHONES.some((shape) => shape.test(candidate))) return true;
  // Part of a dotted version or address such as 10.0.19045.2965 or v2.1.
  const before = text.slice(Math.max(0, start - 2), start);
  const after = text.slice(end, end + 2);
  return /[.\d]\.$|[vV]$/.test(before) || /^\.\d/.test(after);
}
