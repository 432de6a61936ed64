import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import argon2 from 'argon2';

/** argon2id with OWASP's 2024 minimums (19 MiB, 2 passes). */
export async function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, {
    type: argon2.argon2id,
    memoryCost: 19_456,
    timeCost: 2,
    parallelism: 1,
  });
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/** A readable one-time password for seeded accounts. */
export function generatePassword(): string {
  return randomBytes(15).toString('base64url');
}

export interface GeneratedApiKey {
  /** Shown once: `rk_<prefix>_<secret>`. */
  token: string;
  /** Stored, and used to find the key: not secret. */
  prefix: string;
  /** Stored: SHA-256 of the secret (the secret is 256 random bits, so a slow hash adds nothing). */
  secretHash: string;
}

export function generateApiKey(): GeneratedApiKey {
  const prefix = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { token: `rk_${prefix}_${secret}`, prefix, secretHash: hashApiKeySecret(secret) };
}

export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Splits a presented key; null when it is not shaped like one of ours. */
export function parseApiKey(token: string): { prefix: string; secret: string } | null {
  const match = /^rk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/.exec(token);
  return match ? { prefix: match[1] as string, secret: match[2] as string } : null;
}

export function apiKeySecretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashApiKeySecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
