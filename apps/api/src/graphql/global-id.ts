import { badInput } from '../errors.js';

/**
 * Global object ids (Relay): base64url of `Type:key`. Opaque to clients, so a key's shape can
 * change without breaking them, and the type is checked when an id comes back.
 */
export function toGlobalId(type: string, key: string): string {
  return Buffer.from(`${type}:${key}`, 'utf8').toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseGlobalId(id: string): { type: string; key: string } | null {
  if (id.length > 200 || !/^[A-Za-z0-9_-]+$/.test(id)) return null;
  const decoded = Buffer.from(id, 'base64url').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return null;
  return { type: decoded.slice(0, colon), key: decoded.slice(colon + 1) };
}

/** The uuid inside a global id of `type`; BAD_USER_INPUT naming `field` otherwise. */
export function uuidFromGlobalId(id: string, type: string, field: string): string {
  const parsed = parseGlobalId(id);
  if (!parsed || parsed.type !== type || !UUID.test(parsed.key)) {
    throw badInput(field, `${field} is not the id of a ${type}.`);
  }
  return parsed.key.toLowerCase();
}
