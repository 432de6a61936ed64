import type { Detection } from './kinds.js';

// Practical addresses, not all of RFC 5322 (no quoted local parts or IP literals): local part
// of letters, digits and . _ % + - ; a domain of labels ending in an alphabetic TLD.
const EMAIL =
  /(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}._%+-]{1,64}@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+\p{L}{2,63}(?![\p{L}\p{N}-]|\.[\p{L}\p{N}])/gu;

export function detectEmails(text: string): Detection[] {
  const found: Detection[] = [];
  for (const match of text.matchAll(EMAIL)) {
    const local = match[0].slice(0, match[0].lastIndexOf('@'));
    // A dot may not start or end the local part or come twice in a row.
    if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) continue;
    found.push({ kind: 'email', start: match.index, end: match.index + match[0].length });
  }
  return found;
}
