/** Check digits used by the detectors. Each takes only digits ('0'-'9'). */

/** Luhn (mod 10), used by payment cards. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** The Dutch "11-proof" of a 9-digit BSN: 9*d1 + 8*d2 + ... + 2*d8 - d9 is a multiple of 11. */
export function elevenProofValid(digits: string): boolean {
  if (digits.length !== 9 || /^0+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (9 - i) * (digits.charCodeAt(i) - 48);
  sum -= digits.charCodeAt(8) - 48;
  return sum % 11 === 0;
}

/**
 * The French NIR key: 97 - (the 13-digit number mod 97). Corsican departments 2A and 2B
 * count as 19 and 18 in the number.
 */
export function nirKeyValid(body13: string, key: string): boolean {
  const numeric = body13.replace(/^(.{5})2A/i, '$119').replace(/^(.{5})2B/i, '$118');
  if (!/^\d{13}$/.test(numeric)) return false;
  return 97 - (Number(numeric) % 97) === Number(key);
}
