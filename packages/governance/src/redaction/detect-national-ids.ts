import { elevenProofValid, nirKeyValid } from './checksums.js';
import type { Detection } from './kinds.js';

// Not glued to other letters, digits or dashes on either side.
const B = '(?<![\\p{L}\\p{N}-])';
const E = '(?![\\p{L}\\p{N}]|-\\d)';

// US SSN written with a consistent separator, or 9 bare digits right after "SSN"-like words.
const SSN = new RegExp(`${B}(\\d{3})([- ])(\\d{2})\\2(\\d{4})${E}`, 'gu');
const SSN_BARE = new RegExp(
  `(?:\\bSSN|social security(?: number| no\\.?)?|\\bSS#)[\\s:#.]{0,3}${B}(\\d{3})(\\d{2})(\\d{4})${E}`,
  'dgiu',
);

/**
 * US Social Security numbers. Never issued: area 000, 666 or 900-999, group 00, serial 0000.
 * Nine bare digits count only right after a word such as "SSN", because most 9-digit
 * numbers are not SSNs.
 */
export function detectUsSsns(text: string): Detection[] {
  const found: Detection[] = [];
  for (const match of text.matchAll(SSN)) {
    if (ssnValid(match[1]!, match[3]!, match[4]!)) found.push(at('usSsn', match, 0));
  }
  for (const match of text.matchAll(SSN_BARE)) {
    if (ssnValid(match[1]!, match[2]!, match[3]!)) found.push(at('usSsn', match, 1));
  }
  return found;
}

function ssnValid(area: string, group: string, serial: string): boolean {
  return area !== '000' && area !== '666' && area[0] !== '9' && group !== '00' && serial !== '0000';
}

// Prefix letters: the first is never D F I Q U V, the second never D F I O Q U V.
const NINO = new RegExp(
  `${B}([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?(\\d{2}) ?(\\d{2}) ?(\\d{2}) ?([A-D])(?![\\p{L}\\p{N}])`,
  'gu',
);
const NINO_UNUSED_PREFIXES = new Set(['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ']);

/** UK National Insurance numbers such as "AB 12 34 56 C" (upper case, suffix A-D). */
export function detectUkNinos(text: string): Detection[] {
  const found: Detection[] = [];
  for (const match of text.matchAll(NINO)) {
    if (!NINO_UNUSED_PREFIXES.has(match[1]!)) found.push(at('ukNino', match, 0));
  }
  return found;
}

// The 11-proof passes one 9-digit number in 11, so a BSN needs a nearby word that names it.
const BSN = new RegExp(
  `(?:\\bBSN|burgerservicenummer|sofinummer|citizen service number)\\b[^\\p{N}]{0,20}?${B}(\\d{4})[. ]?(\\d{2})[. ]?(\\d{3})${E}`,
  'dgiu',
);

/** Dutch BSNs that pass the 11-proof and follow a word such as "BSN" within 20 characters. */
export function detectNlBsns(text: string): Detection[] {
  const found: Detection[] = [];
  for (const match of text.matchAll(BSN)) {
    if (elevenProofValid(match[1]! + match[2]! + match[3]!)) found.push(at('nlBsn', match, 1));
  }
  return found;
}

// Sex (1, 2; 3, 4, 7, 8 for special cases), year, month (01-12, or 20-99 when unknown),
// department (2 digits, 2A/2B for Corsica), commune, order, key; spaces optional.
const NIR = new RegExp(
  `${B}([123478]) ?(\\d{2}) ?(0[1-9]|1[0-2]|[2-9]\\d) ?(\\d{2}|2[AB]) ?(\\d{3}) ?(\\d{3}) ?(\\d{2})${E}`,
  'gu',
);

/** French NIR (numéro de sécurité sociale) whose 2-digit key matches. */
export function detectFrNirs(text: string): Detection[] {
  const found: Detection[] = [];
  for (const match of text.matchAll(NIR)) {
    const body = match.slice(1, 7).join('');
    if (nirKeyValid(body, match[7]!)) found.push(at('frNir', match, 0));
  }
  return found;
}

/** The detection for a match: the whole match, or from the start of capture 1 (needs flag d). */
function at(kind: Detection['kind'], match: RegExpMatchArray, fromGroup: 0 | 1): Detection {
  const end = match.index! + match[0].length;
  const start = fromGroup === 0 ? match.index! : match.indices![1]![0];
  return { kind, start, end };
}
