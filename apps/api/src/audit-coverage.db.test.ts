import { readFile } from 'node:fs/promises';
import { exportAudit, generateSigningKeyPair, signAuditDigest, verifyExport } from '@roster/audit';
import { withTenant } from '@roster/db';
import { buildSchema, type GraphQLSchema, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { PASSWORD, startTestApi } from '../test/api-harness.js';
import { CALLS, ownerFixture } from '../test/operation-calls/catalog.js';
import { printApiSchema } from './graphql/schema.js';

// Every mutation of the schema writes an AuditEvent with the right action and actor. Mutations
// are read from the schema the code builds AND from the committed SDL, so a mutation added later
// fails here until its call in test/operation-calls declares (and its service records) its event.
const api = await startTestApi();
const owner = await api.signUp('Audited');
const keys = generateSigningKeyPair();

function mutationsOf(schema: GraphQLSchema): string[] {
  return Object.keys(schema.getMutationType()?.getFields() ?? {});
}

async function committedMutations(): Promise<string[]> {
  const sdl = await readFile(new URL('../schema.graphql', import.meta.url), 'utf8').catch(() => '');
  if (sdl === '') return [];
  const names: string[] = [];
  for (const def of parse(sdl).definitions) {
    if (def.kind === 'ObjectTypeDefinition' && def.name.value === 'Mutation') {
      for (const field of def.fields ?? []) names.push(field.name.value);
    }
  }
  return names;
}

const mutations = [
  ...new Set([...mutationsOf(buildSchema(printApiSchema())), ...(await committedMutations())]),
].sort();

interface EventRow {
  tenant_id: string;
  kind: string;
  actor_type: string;
  actor_id: string;
  trace_id: string | null;
  request_id: string | null;
  text: string;
}

/** Events written after `afterId`, in every tenant (the test owner connection bypasses RLS). */
async function eventsSince(afterId: string): Promise<EventRow[]> {
  const { rows } = await api.db.ownerPool.query<EventRow>(
    `SELECT tenant_id, kind, actor_type, actor_id, trace_id, request_id,
            concat_ws(' ', data::text, before::text, after::text) AS text
       FROM audit_events WHERE id > $1 ORDER BY id`,
    [afterId],
  );
  return rows;
}

async function lastEventId(): Promise<string> {
  const { rows } = await api.db.ownerPool.query(
    'SELECT coalesce(max(id), 0)::text AS id FROM audit_events',
  );
  return rows[0].id;
}

/** Secrets the API handed out while the test ran: none may ever reach an audit event. */
const secrets = new Set<string>([PASSWORD]);
function collectSecrets(value: unknown): void {
  if (typeof value === 'string' && /^r[skti]_/.test(value)) secrets.add(value);
  else if (value && typeof value === 'object') Object.values(value).forEach(collectSecrets);
}

async function callAsOwner(operation: string) {
  const spec = CALLS[operation];
  if (!spec) throw new Error(`no call for ${operation}`);
  const fixture = await ownerFixture(api, owner);
  await spec.audit?.prepare?.(api, fixture);
  // signOut ends the session it is called with: give it a session of its own.
  let token = owner.token;
  if (operation === 'signOut') {
    const signedIn = await api.gql(`mutation($i: SignInInput!) { signIn(input: $i) { token } }`, {
      i: { email: owner.email, password: PASSWORD },
    });
    token = signedIn.data?.signIn.token;
  }
  const variables =
    operation === 'signIn'
      ? { i: { email: owner.email, password: PASSWORD } }
      : operation === 'switchTenant'
        ? { i: { tenantId: Buffer.from(`Tenant:${owner.tenantId}`).toString('base64url') } }
        : (spec.variables?.(fixture) ?? {});
  const before = await lastEventId();
  const result = await api.gql(spec.query.replace('NONCE', crypto.randomUUID()), variables, token);
  collectSecrets(result.data);
  collectSecrets(fixture);
  return { result, events: await eventsSince(before) };
}

describe('every mutation writes an AuditEvent', () => {
  it('has a call declaring its audit action for every mutation of the schema', () => {
    expect(mutations.length).toBeGreaterThanOrEqual(17);
    const missing = mutations.filter((m) => !CALLS[m]?.audit);
    expect(missing, 'declare `audit: { action }` in its call and record the event').toEqual([]);
  });

  it.each(mutations.filter((m) => CALLS[m]?.audit))(
    '%s, called by the owner, records its action with the owner as actor',
    async (operation) => {
      const audit = CALLS[operation]?.audit as NonNullable<(typeof CALLS)[string]['audit']>;
      const { result, events } = await callAsOwner(operation);
      expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
      const matching = events.filter((e) => e.kind === audit.action);
      expect(matching.length, `${operation} wrote ${events.map((e) => e.kind)}`).toBeGreaterThan(0);
      const traceId = result.headers['x-trace-id'];
      for (const event of matching) {
        expect(event.actor_type).toBe('member');
        expect(event.trace_id).toBe(traceId);
        expect(event.request_id).toBe(result.headers['x-request-id']);
        if ((audit.actor ?? 'caller') === 'caller') {
          expect(event.actor_id).toBe(owner.userId);
          expect(event.tenant_id).toBe(owner.tenantId);
        } else {
          // The person signed up or let in: a member of the event's tenant, not the caller.
          expect(event.actor_id).not.toBe(owner.userId);
          const { rows } = await api.db.ownerPool.query(
            'SELECT 1 FROM memberships WHERE tenant_id = $1 AND user_id = $2',
            [event.tenant_id, event.actor_id],
          );
          expect(rows).toHaveLength(1);
        }
      }
    },
  );
});

describe('audit events through the API', () => {
  it('name the API key (not its creator) when a key acts, for services and engine alike', async () => {
    const made = await api.gql(
      `mutation { createApiKey(input: { name: "ci", scopes: ["workflows:write", "runs:write"] }) { token apiKey { id } } }`,
      {},
      owner.token,
    );
    collectSecrets(made.data);
    const keyId = Buffer.from(made.data?.createApiKey.apiKey.id, 'base64url')
      .toString()
      .split(':')[1];
    const before = await lastEventId();
    const wf = await api.gql(
      `mutation { createWorkflow(input: { name: "by-key-${crypto.randomUUID()}" }) { workflow { id } } }`,
      {},
      made.data?.createApiKey.token,
    );
    expect(wf.errors).toBeUndefined();
    const events = await eventsSince(before);
    expect(events.map((e) => [e.kind, e.actor_type, e.actor_id])).toEqual([
      ['workflow.created', 'apiKey', keyId],
    ]);
  });

  it('records a failed sign-in against the account in its tenant, without the password tried', async () => {
    const before = await lastEventId();
    const canary = `canary-${crypto.randomUUID()}`;
    secrets.add(canary);
    const r = await api.gql(`mutation($i: SignInInput!) { signIn(input: $i) { token } }`, {
      i: { email: owner.email, password: canary },
    });
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const events = await eventsSince(before);
    expect(events.map((e) => [e.kind, e.tenant_id, e.actor_type])).toEqual([
      ['auth.sign_in_failed', owner.tenantId, 'system'],
    ]);
  });

  it('never holds a token, key secret, invitation token or password the API handed out', async () => {
    // Sign up with a canary password, so the password that travelled through signUp is known.
    const canary = `canary-password-${crypto.randomUUID()}`;
    secrets.add(canary);
    const r = await api.gql(`mutation($i: SignUpInput!) { signUp(input: $i) { token } }`, {
      i: {
        email: `canary-${crypto.randomUUID()}@example.test`,
        password: canary,
        name: 'C',
        tenantName: 'C',
      },
    });
    collectSecrets(r.data);
    expect(secrets.size).toBeGreaterThan(5);
    const all = await eventsSince('0');
    expect(all.length).toBeGreaterThan(20);
    const text = all.map((e) => e.text).join('\n');
    for (const secret of secrets)
      expect(text.includes(secret), `leaked ${secret.slice(0, 6)}…`).toBe(false);
  });

  it('seals, signs and exports what the API wrote; the export verifies, and a superuser edit is caught', async () => {
    await signAuditDigest(api.db.appPool, owner.tenantId, keys.privateKeyPem);
    const lines: string[] = [];
    for await (const line of exportAudit(api.db.appPool, owner.tenantId, {
      from: new Date(0),
      to: new Date(),
      signingKey: keys.privateKeyPem,
    })) {
      lines.push(line);
    }
    const verified = await verifyExport(lines, [keys.publicKeyPem]);
    expect(verified).toMatchObject({ ok: true, firstSeq: 1 });
    const actions = new Set(
      lines
        .map((l) => JSON.parse(l))
        .filter((r) => r.type === 'event')
        .map((r) => r.action),
    );
    for (const action of ['tenant.created', 'workflow.renamed', 'run.created', 'apikey.revoked']) {
      expect(actions.has(action), action).toBe(true);
    }

    // Neither the runtime role nor the owner can change a sealed event...
    await expect(
      withTenant(api.db.appPool, owner.tenantId, ({ client }) =>
        client.query(`UPDATE audit_events SET data = '{}' WHERE tenant_id = $1`, [owner.tenantId]),
      ),
    ).rejects.toThrow(/permission denied/);
    await expect(
      api.db.ownerPool.query(`DELETE FROM audit_events WHERE tenant_id = $1`, [owner.tenantId]),
    ).rejects.toThrow(/append-only/);
    // ...and a superuser who switches the trigger off is caught by the chain.
    await api.db.ownerPool.query(
      `ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
       UPDATE audit_events SET data = '{"edited":true}'
        WHERE id = (SELECT min(id) FROM audit_events WHERE tenant_id = '${owner.tenantId}' AND kind = 'workflow.renamed');
       ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;`,
    );
    const again: string[] = [];
    for await (const line of exportAudit(api.db.appPool, owner.tenantId, {
      from: new Date(0),
      to: new Date(),
      signingKey: keys.privateKeyPem,
    })) {
      again.push(line);
    }
    const tampered = await verifyExport(again, [keys.publicKeyPem]);
    expect(tampered).toMatchObject({ ok: false, failure: { code: 'HASH_MISMATCH' } });
  });
});
