import { createHash, randomBytes } from 'node:crypto';

/** Session tokens are opaque: `rs_` + 256 random bits. Only their SHA-256 is stored. */
export function generateSessionToken(): { token: string; tokenHash: string } {
  const token = `rs_${randomBytes(32).toString('base64url')}`;
  return { token, tokenHash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export const isSessionTokenShape = (token: string) => /^rs_[A-Za-z0-9_-]{43}$/.test(token);
