import { luhnValid } from './checksums.js';
import type { Detection } from './kinds.js';

// 13 to 19 digits, optionally grouped by single spaces or dashes, not part of a longer number.
const CARD = /(?<![\p{L}\p{N}_]|\d[ -])\d(?:[ -]?\d){12,18}(?![ -]?\d|[\p{L}_])/gu;

/**
 * Payment card numbers: 13-19 digits passing the Luhn check, starting with 2-6 (the major
 * networks: Mastercard 2/5, Amex/Diners/JCB 3, Visa 4, Discover/UnionPay/Maestro 6), which
 * keeps Luhn-valid order and account numbers that start otherwise.
 */
export function detectPaymentCards(text: string): Detection[] {
  const found: Detection[] = [];
  for (const match of text.matchAll(CARD)) {
    const digits = match[0].replace(/[ -]/g, '');
    if (!/^[2-6]/.test(digits) || !luhnValid(digits)) continue;
    found.push({ kind: 'paymentCard', start: match.index, end: match.index + match[0].length });
  }
  return found;
}
