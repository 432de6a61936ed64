import { getCountrySpecifications, isValidIBAN } from 'ibantools';
import type { Detection } from './kinds.js';

const specs = getCountrySpecifications();
const START = /(?<![\p{L}\p{N}])([A-Za-z]{2})\d{2}/gu;
const ALNUM = /[A-Za-z0-9]/;

/**
 * IBANs in electronic ("GB82WEST12345698765432") or print form (groups split by single
 * spaces), checked with ibantools: country length, BBAN format and the mod-97 check digits.
 */
export function detectIbans(text: string): Detection[] {
  const found: Detection[] = [];
  for (const match of text.matchAll(START)) {
    const length = specs[match[1]!.toUpperCase()]?.chars;
    if (length == null) continue;
    // Read exactly `length` characters, allowing one space between them.
    let compact = match[0];
    let at = match.index + match[0].length;
    while (compact.length < length && at < text.length) {
      const c = text[at]!;
      if (ALNUM.test(c)) {
        compact += c;
        at++;
      } else if (c === ' ' && at + 1 < text.length && ALNUM.test(text[at + 1]!)) {
        at++;
      } else break;
    }
    if (compact.length !== length || (at < text.length && /[\p{L}\p{N}]/u.test(text[at]!)))
      continue;
    if (!isValidIBAN(compact.toUpperCase())) continue;
    found.push({ kind: 'iban', start: match.index, end: at });
  }
  return found;
}
