import { type Actor, abilityFor, type Policy, type RosterAbility } from '@roster/authz';
import { type Pool, withTenant } from '@roster/db';
import { apiKeySecretMatches, parseApiKey } from '../identity/credentials.js';
import { hashToken, isSessionTokenShape } from './session-token.js';

export interface Authenticated {
  actor: Actor;
  ability: RosterAbility;
  /** The signed-in person (the key's creator for an API key). */
  userId: string;
  /** Present for session sign-ins: sign-out and tenant switch act on it. */
  sessionTokenHash?: string;
}

export type AuthResult =
  | { ok: true; auth: Authenticated }
  | { ok: false; reason: string }
  | { ok: null };

/**
 * Reads `Authorization: Bearer <token>`: a session token (`rs_…`) or an API key (`rk_…`).
 * No header: anonymous (`ok: null`). A bad token: `ok: false` with a reason the caller sees.
 */
export async function authenticate(
  appPool: Pool,
  policy: Policy,
  header: string | undefined,
  now = new Date(),
): Promise<AuthResult> {
  if (!header) return { ok: null };
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) return { ok: false, reason: 'The Authorization header must be `Bearer <token>`.' };
  const token = match[1] as string;

  if (token.startsWith('rk_')) {
    const parsed = parseApiKey(token);
    if (!parsed) return { ok: false, reason: 'That API key is malformed.' };
    const { rows } = await appPool.query('SELECT * FROM auth_api_key($1)', [parsed.prefix]);
    const key = rows[0];
    if (!key || !apiKeySecretMatches(parsed.secret, key.secret_hash))
      return { ok: false, reason: 'That API key is not valid.' };
    if (key.revoked_at) return { ok: false, reason: 'That API key was revoked.' };
    if (key.expires_at && key.expires_at <= now)
      return { ok: false, reason: 'That API key has expired.' };
    if (!key.creator_id || !key.creator_role) {
      return {
        ok: false,
        reason: 'The member who created that API key has left the tenant; create a new key.',
      };
    }
    const actor: Actor = {
      kind: 'apiKey',
      tenantId: key.tenant_id,
      keyId: key.key_id,
      scopes: key.scopes,
      creator: { memberId: key.creator_id, role: key.creator_role },
    };
    if (!key.last_used_at || now.getTime() - key.last_used_at.getTime() > 60_000) {
      // Recorded at most once a minute per key, off the request's path.
      void withTenant(appPool, key.tenant_id, (tx) =>
        tx.client.query(
          'UPDATE api_keys SET last_used_at = now() WHERE tenant_id = $1 AND id = $2',
          [key.tenant_id, key.key_id],
        ),
      ).catch(() => {});
    }
    return {
      ok: true,
      auth: { actor, ability: abilityFor(policy, actor), userId: key.creator_id },
    };
  }

  if (!isSessionTokenShape(token))
    return { ok: false, reason: 'That token is not a Roster session token or API key.' };
  const tokenHash = hashToken(token);
  const { rows } = await appPool.query('SELECT * FROM auth_session($1)', [tokenHash]);
  const session = rows[0];
  if (!session) return { ok: false, reason: 'That session has ended or expired. Sign in again.' };
  const actor: Actor = {
    kind: 'member',
    tenantId: session.tenant_id,
    memberId: session.user_id,
    role: session.role,
  };
  return {
    ok: true,
    auth: {
      actor,
      ability: abilityFor(policy, actor),
      userId: session.user_id,
      sessionTokenHash: tokenHash,
    },
  };
}
