import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type AuditRequestContext, recordAudit } from '@roster/audit';
import type { Policy } from '@roster/authz';
import { type Pool, withTenant } from '@roster/db';
import { generateSessionToken, hashToken } from '../auth/session-token.js';
import { ApiError, badInput, conflict, rateLimited, unauthenticated } from '../errors.js';
import type { ApiLimits } from '../graphql/context.js';
import { hashPassword, verifyPassword } from '../identity/credentials.js';
import { memberAuditContext } from './audit-actor.js';
import { checkName } from './text-input.js';

const SESSION_TTL_MS = 14 * 24 * 3600 * 1000;
const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,185}\.[^\s@]{2,63}$/;
// Verified against when the account does not exist, so both paths take the same time.
const DUMMY_HASH = hashPassword('not-a-real-password-but-long-enough');

export interface IdentityDeps {
  appPool: Pool;
  policy: Policy;
  limits: ApiLimits;
  /** Carried by the audit events of the request (the GraphQL context has both). */
  requestId?: string;
  traceId?: string;
}

export interface SessionGrant {
  token: string;
  userId: string;
  tenantId: string;
}

function checkEmail(email: string, field: string): string {
  const trimmed = email.trim();
  if (!EMAIL.test(trimmed)) throw badInput(field, `${field} must be an e-mail address.`);
  return trimmed;
}

function checkPassword(password: string, field: string): void {
  if (password.length < 12 || password.length > 256) {
    throw badInput(field, `${field} must be 12 to 256 characters long.`);
  }
}

function slugFor(name: string): string {
  const base = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40);
  return `${base || 'tenant'}-${randomBytes(3).toString('hex')}`;
}

async function createSession(
  appPool: Pool,
  userId: string,
  tenantId: string,
): Promise<SessionGrant> {
  const { token, tokenHash } = generateSessionToken();
  const { rows } = await appPool.query('SELECT auth_create_session($1, $2, $3, $4) AS id', [
    userId,
    tenantId,
    tokenHash,
    new Date(Date.now() + SESSION_TTL_MS),
  ]);
  if (!rows[0]?.id) throw new ApiError('FORBIDDEN', 'You are not a member of that tenant.');
  return { token, userId, tenantId };
}

/** Sign-up: a new tenant with the caller as its owner, in one transaction, then a session. */
export async function signUp(
  deps: IdentityDeps,
  input: { email: string; password: string; name: string; tenantName: string },
): Promise<SessionGrant> {
  const email = checkEmail(input.email, 'input.email');
  checkPassword(input.password, 'input.password');
  const name = checkName(input.name, 'input.name');
  const tenantName = checkName(input.tenantName, 'input.tenantName');
  const tenantId = randomUUID();
  const userId = randomUUID();
  const passwordHash = await hashPassword(input.password);
  try {
    await withTenant(deps.appPool, tenantId, async ({ client }) => {
      await client.query('INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $3)', [
        tenantId,
        slugFor(tenantName),
        tenantName,
      ]);
      await client.query(
        'INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, $3, $4)',
        [userId, email, name, passwordHash],
      );
      await client.query(
        `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'owner')`,
        [tenantId, userId],
      );
      await recordAudit(client, tenantId, memberAuditContext(deps, userId), {
        action: 'tenant.created',
        subject: { type: 'tenant', id: tenantId },
        after: { name: tenantName, owner: userId },
      });
    });
  } catch (err) {
    if ((err as { constraint?: string }).constraint === 'users_email_key') {
      throw conflict(
        'An account with that e-mail exists. Sign in, and create another tenant from there.',
        { field: 'input.email' },
      );
    }
    throw err;
  }
  return createSession(deps.appPool, userId, tenantId);
}

/**
 * Sign-in with e-mail and password. Attempts are counted per account and per IP across all API
 * processes (Postgres); past the limit the answer is RATE_LIMITED whatever the password.
 */
export async function signIn(
  deps: IdentityDeps,
  input: { email: string; password: string; tenantSlug?: string | null },
  ip: string,
): Promise<SessionGrant> {
  const email = input.email.trim().toLowerCase().slice(0, 320);
  const { signInAttempts, signInAttemptsPerIp, signInWindowSeconds } = deps.limits;
  const accountKey = `account:${createHash('sha256').update(email).digest('hex')}`;
  const { rows: limits } = await deps.appPool.query(
    'SELECT auth_login_attempt($1, $3, $4) AS account, auth_login_attempt($2, $3, $5) AS ip',
    [accountKey, `ip:${ip}`, signInWindowSeconds, signInAttempts, signInAttemptsPerIp],
  );
  if (!limits[0].account || !limits[0].ip) throw rateLimited(signInWindowSeconds);

  const { rows } = await deps.appPool.query('SELECT * FROM auth_user_for_sign_in($1)', [email]);
  const user = rows[0] as { user_id: string; password_hash: string | null } | undefined;
  const ok = await verifyPassword(
    user?.password_hash ?? (await DUMMY_HASH),
    input.password.slice(0, 256),
  );
  if (!user?.password_hash || !ok) {
    // A failure against a known account is recorded in each of its tenants; one against an
    // unknown address has no tenant to record it in (the rate limiter still counts it).
    if (user) await recordSignInFailure(deps, user.user_id, ip);
    throw unauthenticated('E-mail or password is wrong.');
  }
  await deps.appPool.query('SELECT auth_sign_in_succeeded($1)', [accountKey]);

  const tenants = await listUserTenants(deps.appPool, user.user_id);
  const tenant = input.tenantSlug ? tenants.find((t) => t.slug === input.tenantSlug) : tenants[0];
  if (!tenant) {
    throw input.tenantSlug
      ? badInput('input.tenantSlug', 'You are not a member of a tenant with that slug.')
      : new ApiError(
          'FORBIDDEN',
          'Your account is not a member of any tenant. Ask for an invitation.',
        );
  }
  const grant = await createSession(deps.appPool, user.user_id, tenant.tenantId);
  await withTenant(deps.appPool, tenant.tenantId, ({ client }) =>
    recordAudit(client, tenant.tenantId, memberAuditContext(deps, user.user_id), {
      action: 'auth.signed_in',
      subject: { type: 'member', id: user.user_id },
      data: { ip },
    }),
  );
  return grant;
}

async function recordSignInFailure(deps: IdentityDeps, userId: string, ip: string) {
  const context: AuditRequestContext = {
    actor: { type: 'system', id: 'anonymous' },
    traceId: deps.traceId ?? null,
    requestId: deps.requestId ?? null,
  };
  for (const tenant of await listUserTenants(deps.appPool, userId)) {
    await withTenant(deps.appPool, tenant.tenantId, ({ client }) =>
      recordAudit(client, tenant.tenantId, context, {
        action: 'auth.sign_in_failed',
        subject: { type: 'member', id: userId },
        data: { ip, reason: 'wrong_password' },
      }),
    );
  }
}

export async function signOut(
  appPool: Pool,
  sessionTokenHash: string,
  audit?: { tenantId: string; context: AuditRequestContext },
): Promise<boolean> {
  const { rows } = await appPool.query('SELECT auth_delete_session($1) AS ok', [sessionTokenHash]);
  if (audit && rows[0].ok === true) {
    await withTenant(appPool, audit.tenantId, ({ client }) =>
      recordAudit(client, audit.tenantId, audit.context, {
        action: 'auth.signed_out',
        subject: { type: 'member', id: audit.context.actor.id },
      }),
    );
  }
  return rows[0].ok === true;
}

export async function switchTenant(
  appPool: Pool,
  sessionTokenHash: string,
  tenantId: string,
  audit?: { fromTenantId: string; context: AuditRequestContext },
): Promise<void> {
  const { rows } = await appPool.query('SELECT auth_switch_tenant($1, $2) AS role', [
    sessionTokenHash,
    tenantId,
  ]);
  if (!rows[0].role)
    throw new ApiError('NOT_FOUND', 'You are not a member of that tenant. Check the id.');
  if (audit) {
    await withTenant(appPool, tenantId, ({ client }) =>
      recordAudit(client, tenantId, audit.context, {
        action: 'auth.tenant_switched',
        subject: { type: 'member', id: audit.context.actor.id },
        data: { fromTenantId: audit.fromTenantId },
      }),
    );
  }
}

export interface UserTenant {
  tenantId: string;
  slug: string;
  name: string;
  role: string;
  createdAt: Date;
}

export async function listUserTenants(appPool: Pool, userId: string): Promise<UserTenant[]> {
  const { rows } = await appPool.query('SELECT * FROM auth_user_tenants($1)', [userId]);
  return rows.map((r) => ({
    tenantId: r.tenant_id,
    slug: r.slug,
    name: r.name,
    role: r.role,
    createdAt: r.created_at,
  }));
}

/** Invites a person by e-mail with a role. Only an owner may invite another owner. */
export async function inviteMember(
  deps: IdentityDeps,
  actor: { tenantId: string; userId: string; role: string; audit?: AuditRequestContext },
  input: { email: string; role: string },
): Promise<{
  token: string;
  invitation: { id: string; email: string; role: string; expiresAt: Date };
}> {
  const email = checkEmail(input.email, 'input.email');
  if (!deps.policy.roles.has(input.role)) {
    throw badInput(
      'input.role',
      `input.role must be one of: ${[...deps.policy.roles.keys()].join(', ')}.`,
    );
  }
  if (input.role === 'owner' && actor.role !== 'owner') {
    throw new ApiError('FORBIDDEN', 'Only an owner may invite another owner.', {
      field: 'input.role',
    });
  }
  const token = `ri_${randomBytes(32).toString('base64url')}`;
  const id = randomUUID();
  const expiresAt = new Date(Date.now() + INVITATION_TTL_MS);
  await withTenant(deps.appPool, actor.tenantId, async ({ client }) => {
    await client.query(
      `INSERT INTO invitations (tenant_id, id, email, role, token_hash, invited_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [actor.tenantId, id, email, input.role, hashToken(token), actor.userId, expiresAt],
    );
    await recordAudit(
      client,
      actor.tenantId,
      actor.audit ?? memberAuditContext(deps, actor.userId),
      {
        action: 'member.invited',
        subject: { type: 'invitation', id },
        after: { email, role: input.role, expiresAt: expiresAt.toISOString() },
      },
    );
  });
  return { token, invitation: { id, email, role: input.role, expiresAt } };
}

/**
 * Accepts an invitation: an existing account proves itself with its password; a new person
 * chooses a name and password. The membership and the acceptance are one transaction.
 */
export async function acceptInvitation(
  deps: IdentityDeps,
  input: { token: string; password: string; name?: string | null },
): Promise<SessionGrant> {
  const invalid = () =>
    badInput('input.token', 'That invitation is not valid, was already used, or has expired.');
  if (!/^ri_[A-Za-z0-9_-]{43}$/.test(input.token)) throw invalid();
  const { rows } = await deps.appPool.query('SELECT * FROM auth_invitation($1)', [
    hashToken(input.token),
  ]);
  const inv = rows[0];
  if (!inv || inv.accepted_at || inv.revoked_at || !(inv.expires_at > new Date())) throw invalid();

  const { rows: users } = await deps.appPool.query('SELECT * FROM auth_user_for_sign_in($1)', [
    inv.email,
  ]);
  let userId: string;
  let newUser: { name: string; passwordHash: string } | null = null;
  if (users[0]) {
    userId = users[0].user_id;
    if (
      !users[0].password_hash ||
      !(await verifyPassword(users[0].password_hash, input.password))
    ) {
      throw unauthenticated('That is not the password of the account this invitation was sent to.');
    }
  } else {
    checkPassword(input.password, 'input.password');
    userId = randomUUID();
    newUser = {
      name: checkName(input.name ?? '', 'input.name'),
      passwordHash: await hashPassword(input.password),
    };
  }
  await withTenant(deps.appPool, inv.tenant_id, async ({ client }) => {
    const claimed = await client.query(
      'UPDATE invitations SET accepted_at = now() WHERE tenant_id = $1 AND id = $2 AND accepted_at IS NULL',
      [inv.tenant_id, inv.invitation_id],
    );
    if (claimed.rowCount !== 1) throw invalid();
    if (newUser) {
      await client.query(
        'INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, $3, $4)',
        [userId, inv.email, newUser.name, newUser.passwordHash],
      );
    }
    const joined = await client.query(
      `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id, user_id) DO NOTHING`,
      [inv.tenant_id, userId, inv.role],
    );
    await recordAudit(client, inv.tenant_id, memberAuditContext(deps, userId), {
      action: 'member.joined',
      subject: { type: 'member', id: userId },
      after: joined.rowCount === 1 ? { role: inv.role } : undefined,
      data: { invitationId: inv.invitation_id, newAccount: newUser !== null },
    });
  });
  return createSession(deps.appPool, userId, inv.tenant_id);
}
