import { describe, expect, it } from 'vitest';
import { PASSWORD, startTestApi } from '../test/api-harness.js';

const api = await startTestApi({ limits: { signInAttempts: 5 } });

const SIGN_IN = `mutation($input: SignInInput!) { signIn(input: $input) { token viewer { role tenant { name } } } }`;
const VIEWER = `{ viewer { userId role tenant { name } tenants { role tenant { id name } } } }`;

describe('people', () => {
  it('sign-up creates a tenant with its owner; sign-in opens a session; sign-out ends it', async () => {
    const owner = await api.signUp('Northwind');
    const me = await api.gql(VIEWER, {}, owner.token);
    expect(me.data?.viewer).toMatchObject({ role: 'owner', tenant: { name: 'Northwind' } });

    const signedIn = await api.gql(SIGN_IN, { input: { email: owner.email, password: PASSWORD } });
    expect(signedIn.data?.signIn.viewer).toEqual({ role: 'owner', tenant: { name: 'Northwind' } });
    const token = signedIn.data?.signIn.token as string;
    expect(token).toMatch(/^rs_/);

    const out = await api.gql('mutation { signOut { signedOut } }', {}, token);
    expect(out.data?.signOut.signedOut).toBe(true);
    const after = await api.gql(VIEWER, {}, token);
    expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(after.errors?.[0]?.message).toContain('Sign in again');
    // The other session is untouched.
    expect((await api.gql(VIEWER, {}, owner.token)).data?.viewer.role).toBe('owner');
  });

  it("lists the caller's tenants with the moments they were created", async () => {
    const owner = await api.signUp('Dated');
    const me = await api.gql(
      '{ viewer { tenant { createdAt } tenants { tenant { createdAt } } } }',
      {},
      owner.token,
    );
    const { rows } = await api.db.ownerPool.query<{ created_at: Date }>(
      'SELECT created_at FROM tenants WHERE id = $1',
      [owner.tenantId],
    );
    const created = rows[0]?.created_at.toISOString();
    expect(me.data?.viewer).toEqual({
      tenant: { createdAt: created },
      tenants: [{ tenant: { createdAt: created } }],
    });
  });

  it('stores no password or token in plaintext', async () => {
    const owner = await api.signUp('Secretive');
    const { rows } = await api.db.ownerPool.query(
      `SELECT u.password_hash, s.token_hash FROM users u JOIN sessions s ON s.user_id = u.id WHERE u.id = $1`,
      [owner.userId],
    );
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$/);
    expect(rows[0].token_hash).not.toContain(owner.token.slice(3));
    expect(rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a second account with the same e-mail, and bad input names its field', async () => {
    const owner = await api.signUp('First');
    const again = await api.gql(
      `mutation($input: SignUpInput!) { signUp(input: $input) { token } }`,
      {
        input: {
          email: owner.email.toUpperCase(),
          password: PASSWORD,
          name: 'X',
          tenantName: 'Second',
        },
      },
    );
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.email' });
    const weak = await api.gql(
      `mutation($input: SignUpInput!) { signUp(input: $input) { token } }`,
      {
        input: { email: 'new@example.test', password: 'short', name: 'X', tenantName: 'Y' },
      },
    );
    expect(weak.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.password',
    });
    const { rows } = await api.db.ownerPool.query(
      `SELECT count(*)::int AS n FROM tenants WHERE name IN ('Second', 'Y')`,
    );
    expect(rows[0].n).toBe(0);
  });

  it('rate-limits sign-in per account: past the limit even the right password is refused', async () => {
    const owner = await api.signUp('Targeted');
    for (let i = 0; i < 5; i++) {
      const wrong = await api.gql(SIGN_IN, {
        input: { email: owner.email, password: 'wrong password 123' },
      });
      expect(wrong.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    const blocked = await api.gql(SIGN_IN, { input: { email: owner.email, password: PASSWORD } });
    expect(blocked.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  });

  it('counts wrong passwords, not sign-ins: a successful sign-in resets the account count', async () => {
    const owner = await api.signUp('Frequent');
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) {
        await api.gql(SIGN_IN, { input: { email: owner.email, password: 'wrong password 123' } });
      }
      const ok = await api.gql(SIGN_IN, { input: { email: owner.email, password: PASSWORD } });
      expect(ok.errors, `round ${round}`).toBeUndefined();
    }
  });

  it('rate-limits sign-in per IP across accounts', async () => {
    const crowded = await startTestApi({ limits: { signInAttempts: 100, signInAttemptsPerIp: 3 } });
    const codes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await crowded.gql(SIGN_IN, {
        input: { email: `nobody-${i}@example.test`, password: 'whatever it is' },
      });
      codes.push(r.errors?.[0]?.extensions?.code);
    }
    expect(codes).toEqual([
      'UNAUTHENTICATED',
      'UNAUTHENTICATED',
      'UNAUTHENTICATED',
      'RATE_LIMITED',
    ]);
  });

  it('invites a person with a role; they join, belong to two tenants, and switch between them', async () => {
    const a = await api.signUp('Alpha');
    const b = await api.signUp('Beta');
    const member = await api.addMember(a.token, 'builder');
    // The same person invited to B proves they own the account with its password.
    const invited = await api.gql(
      `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { token invitation { role } } }`,
      { input: { email: member.email, role: 'viewer' } },
      b.token,
    );
    const joined = await api.gql(
      `mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { token viewer { role tenant { name } tenants { role tenant { id name } } } } }`,
      { input: { token: invited.data?.inviteMember.token, password: PASSWORD } },
    );
    expect(joined.data?.acceptInvitation.viewer.tenant.name).toBe('Beta');
    const tenants = joined.data?.acceptInvitation.viewer.tenants as {
      role: string;
      tenant: { id: string; name: string };
    }[];
    expect(tenants.map((t) => [t.tenant.name, t.role]).sort()).toEqual([
      ['Alpha', 'builder'],
      ['Beta', 'viewer'],
    ]);
    const token = joined.data?.acceptInvitation.token as string;
    const alpha = tenants.find((t) => t.tenant.name === 'Alpha')?.tenant.id;
    const switched = await api.gql(
      `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { viewer { role tenant { name } } } }`,
      { input: { tenantId: alpha } },
      token,
    );
    expect(switched.data?.switchTenant.viewer).toEqual({
      role: 'builder',
      tenant: { name: 'Alpha' },
    });
    // The invitation is single-use.
    const reuse = await api.gql(
      `mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { token } }`,
      { input: { token: invited.data?.inviteMember.token, password: PASSWORD } },
    );
    expect(reuse.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.token',
    });
  });

  it('only an owner may invite an owner', async () => {
    const owner = await api.signUp('Hierarchy');
    const admin = await api.addMember(owner.token, 'admin');
    const r = await api.gql(
      `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { token } }`,
      { input: { email: 'new-owner@example.test', role: 'owner' } },
      admin.token,
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('API keys', () => {
  const CREATE = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { token apiKey { id prefix scopes revokedAt } } }`;

  it('is shown once, stored hashed, authenticates, records its use, and stops working when revoked', async () => {
    const owner = await api.signUp('Integrations');
    const created = await api.gql(
      CREATE,
      { input: { name: 'CI', scopes: ['workflows:read'] } },
      owner.token,
    );
    const token = created.data?.createApiKey.token as string;
    expect(token).toMatch(/^rk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const { rows } = await api.db.ownerPool.query(
      'SELECT secret_hash FROM api_keys WHERE prefix = $1',
      [created.data?.createApiKey.apiKey.prefix],
    );
    // The secret is what follows `rk_<12 hex>_`; it may itself hold '_' (base64url).
    const secret = token.slice('rk_'.length + 12 + 1);
    expect(secret).toHaveLength(43);
    expect(rows[0].secret_hash).not.toContain(secret);

    expect((await api.gql('{ workflows { nodes { id } } }', {}, token)).errors).toBeUndefined();
    const listed = await api.gql('{ apiKeys { nodes { name lastUsedAt } } }', {}, owner.token);
    expect(listed.data?.apiKeys.nodes[0].name).toBe('CI');

    await api.gql(
      `mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { apiKey { revokedAt } } }`,
      {
        input: { id: created.data?.createApiKey.apiKey.id },
      },
      owner.token,
    );
    const refused = await api.gql('{ workflows { nodes { id } } }', {}, token);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(refused.errors?.[0]?.message).toContain('revoked');
  });

  it('never exceeds its scopes: a read-only key cannot create a workflow', async () => {
    const owner = await api.signUp('Scoped');
    const created = await api.gql(
      CREATE,
      { input: { name: 'reader', scopes: ['workflows:read'] } },
      owner.token,
    );
    const r = await api.gql(
      `mutation { createWorkflow(input: { name: "nope" }) { workflow { id } } }`,
      {},
      created.data?.createApiKey.token,
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses unknown scopes and past expiry dates, naming the field', async () => {
    const owner = await api.signUp('Strict');
    const bad = await api.gql(
      CREATE,
      { input: { name: 'x', scopes: ['workflows:read', 'root:all'] } },
      owner.token,
    );
    expect(bad.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.scopes.1',
    });
    const past = await api.gql(
      CREATE,
      { input: { name: 'x', scopes: ['workflows:read'], expiresAt: '2020-01-01T00:00:00Z' } },
      owner.token,
    );
    expect(past.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.expiresAt',
    });
  });
});

describe('every response', () => {
  it("carries a request id and a trace id, in headers and extensions, continuing the caller's trace", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await api.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: {
        'content-type': 'application/json',
        'x-request-id': 'req-12345678',
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      },
      payload: JSON.stringify({ query: '{ viewer { userId } }' }),
    });
    const body = JSON.parse(response.body);
    expect(response.headers['x-request-id']).toBe('req-12345678');
    expect(response.headers['x-trace-id']).toBe(traceId);
    expect(body.extensions).toEqual({ requestId: 'req-12345678', traceId });
    expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});
