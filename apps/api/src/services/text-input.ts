import { badInput } from '../errors.js';

/** True when `value` holds a C0 control character (NUL, escape, newline, ...). */
function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) < 0x20) return true;
  return false;
}

/** A trimmed single-line name of 1..max printable characters, or BAD_USER_INPUT naming `field`. */
export function checkName(value: string, field: string, max = 120): string {
  const trimmed = value.trim();
  if (trimmed.length < 1 || trimmed.length > max || hasControlCharacter(trimmed)) {
    throw badInput(field, `${field} must be 1 to ${max} printable characters.`);
  }
  return trimmed;
}
