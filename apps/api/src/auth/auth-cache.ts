import { createHash } from 'node:crypto';
import type { Authenticated } from './authenticate.js';

/**
 * Recently authenticated credentials, for `ttlMs` (default 5 s): a hot API key costs one hash, not
 * a database round trip and a CASL compile. Revoking a key or signing out evicts at once in this
 * process; other API processes notice within the TTL.
 */
export class AuthCache {
  private readonly entries = new Map<string, { auth: Authenticated; expiresAt: number }>();

  constructor(
    private readonly ttlMs = 5_000,
    private readonly maxEntries = 10_000,
  ) {}

  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  get(key: string, now = Date.now()): Authenticated | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.auth;
  }

  set(key: string, auth: Authenticated, now = Date.now()): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { auth, expiresAt: now + this.ttlMs });
  }

  /** Drops every cached credential matching `predicate` (a revoked key, an ended session). */
  evict(predicate: (auth: Authenticated) => boolean): void {
    for (const [key, entry] of this.entries) if (predicate(entry.auth)) this.entries.delete(key);
  }
}
