import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestApi } from '../test/api-harness.js';

// Hostile requests against the production configuration, over real HTTP on 127.0.0.1. Each one
// gets a 4xx or a typed error with its code; the pre-execution ones run no resolver at all; the
// server keeps answering.
const api = await startTestApi({ production: true });
await api.app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
const owner = await api.signUp('Target');
const other = await api.signUp('Other');
const otherWorkflow = (
  await api.gql(
    `mutation { createWorkflow(input: { name: "theirs" }) { workflow { id } } }`,
    {},
    other.token,
  )
).data?.createWorkflow.workflow.id as string;

interface Attack {
  name: string;
  request: () => Promise<Response>;
  /** Refused before execution: no resolver may run. */
  preExecution: boolean;
  /** HTTP status expected, or the error code expected in the body. */
  status?: number;
  code?: string;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies of hostile requests have no fixed shape
  check?: (body: any) => void;
}

const json = (body: unknown, headers: Record<string, string> = {}, token = owner.token) =>
  fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const q = (query: string, variables?: unknown) => json({ query, variables });

const deep = (n: number) =>
  `{ viewer { ${'tenant { '.repeat(0)}${Array.from({ length: n }, () => 'tenants { tenant { ').join('')}id${' } }'.repeat(n)} } }`;
const aliases = (n: number) =>
  `{ ${Array.from({ length: n }, (_, i) => `a${i}: viewer { userId }`).join(' ')} }`;
const directives = (n: number) => `{ viewer { userId ${'@include(if: true) '.repeat(n)} } }`;
const fanOut = `query { workflows(first: 100) { nodes { ...A ...A ...A ...A ...A ...A ...A ...A ...A ...A } } }
  fragment A on Workflow { versions(first: 100) { definition } }`;

const attacks: Attack[] = [
  {
    name: 'depth 50',
    request: () => q(deep(25)),
    preExecution: true,
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
  { name: '1,000 aliases', request: () => q(aliases(1000)), preExecution: true, status: 400 },
  {
    name: 'fragment cycle',
    request: () =>
      q(
        'query { viewer { ...A } } fragment A on Viewer { tenant { id } ...B } fragment B on Viewer { ...A }',
      ),
    preExecution: true,
    status: 400,
  },
  { name: 'fragment fan-out', request: () => q(fanOut), preExecution: true, status: 400 },
  { name: '1,000 directives', request: () => q(directives(1000)), preExecution: true, status: 400 },
  {
    name: 'a 1 MB document',
    request: () => q(`{ viewer { userId } } # ${'x'.repeat(1_100_000)}`),
    preExecution: true,
    status: 413,
  },
  {
    name: '2,001 tokens',
    request: () => q(`{ viewer { ${'userId '.repeat(2001)} } }`),
    preExecution: true,
    status: 400,
  },
  {
    name: 'batched array body',
    request: () => json([{ query: '{ viewer { userId } }' }, { query: '{ viewer { userId } }' }]),
    preExecution: true,
    status: 400,
  },
  {
    name: 'GET mutation',
    request: () =>
      fetch(
        `${base}/graphql?query=${encodeURIComponent('mutation { createWorkflow(input: { name: "via-get" }) { workflow { id } } }')}`,
        {
          headers: { authorization: `Bearer ${owner.token}`, 'apollo-require-preflight': 'true' },
        },
      ),
    preExecution: true,
    status: 405,
  },
  {
    name: 'text/plain POST without preflight header (CSRF)',
    request: () =>
      fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', authorization: `Bearer ${owner.token}` },
        body: JSON.stringify({
          query: 'mutation { createWorkflow(input: { name: "csrf" }) { workflow { id } } }',
        }),
      }),
    preExecution: true,
    status: 400,
  },
  {
    name: 'first: 1e9',
    request: () => q('{ workflows(first: 1000000000) { nodes { id } } }'),
    preExecution: true,
    status: 400,
  },
  {
    name: 'first: 101 (over the page cap)',
    request: () => q('{ workflows(first: 101) { nodes { id } } }'),
    preExecution: false,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'first: -1',
    request: () => q('{ workflows(first: -1) { nodes { id } } }'),
    preExecution: false,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'Int overflow in a variable',
    request: () =>
      q('query($n: Int) { workflows(first: $n) { nodes { id } } }', { n: 3_000_000_000 }),
    preExecution: true,
    status: 400,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'wrong enum',
    request: () => q('{ workflows(status: DELETED) { nodes { id } } }'),
    preExecution: true,
    status: 400,
  },
  {
    name: 'null for a non-null input field',
    request: () =>
      q('mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { workflow { id } } }', {
        i: { name: null },
      }),
    preExecution: true,
    status: 400,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'a 10 MB string',
    request: () =>
      q('mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { workflow { id } } }', {
        i: { name: 'x'.repeat(10_000_000) },
      }),
    preExecution: true,
    status: 413,
  },
  {
    name: 'NUL bytes in a name',
    request: () =>
      q('mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { workflow { id } } }', {
        i: { name: 'evil\u0000name' },
      }),
    preExecution: false,
    code: 'BAD_USER_INPUT',
    check: (body) => expect(body.errors[0].extensions.field).toBe('input.name'),
  },
  {
    name: "another tenant's id",
    request: () => q('query($id: ID!) { workflow(id: $id) { name } }', { id: otherWorkflow }),
    preExecution: false,
    code: 'NOT_FOUND',
  },
  {
    name: "another tenant's id in a mutation",
    request: () =>
      q('mutation($id: ID!) { archiveWorkflow(input: { id: $id }) { workflow { id } } }', {
        id: otherWorkflow,
      }),
    preExecution: false,
    code: 'NOT_FOUND',
  },
  {
    name: '100 login attempts in one document',
    request: () =>
      q(
        `mutation { ${Array.from({ length: 100 }, (_, i) => `s${i}: signIn(input: { email: "${owner.email}", password: "guess-${i}-xxxxxx" }) { token }`).join(' ')} }`,
      ),
    preExecution: true,
    status: 400,
  },
  {
    name: 'introspection in production',
    request: () => q('{ __schema { types { name } } }'),
    preExecution: true,
    status: 400,
  },
  {
    name: "a typo'd field gets no suggestion",
    request: () => q('{ viewr { userId } }'),
    preExecution: true,
    status: 400,
    check: (body) => expect(JSON.stringify(body)).not.toMatch(/Did you mean/i),
  },
  {
    name: 'malformed JSON body',
    request: () => json('{"query": "{ viewer { userId } }"'),
    preExecution: true,
    status: 400,
  },
  {
    name: 'no query at all',
    request: () => json({ variables: {} }),
    preExecution: true,
    status: 400,
  },
  {
    name: 'unknown operationName',
    request: () => json({ query: 'query A { viewer { userId } }', operationName: 'B' }),
    preExecution: true,
    status: 400,
  },
  {
    name: 'variables that are not an object',
    request: () => json({ query: '{ viewer { userId } }', variables: 'x' }),
    preExecution: true,
    status: 400,
  },
  {
    name: 'an id that is not a global id',
    request: () => q('query($id: ID!) { workflow(id: $id) { name } }', { id: "1' OR '1'='1" }),
    preExecution: false,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'a global id of the wrong type',
    request: () =>
      q('query($id: ID!) { workflow(id: $id) { name } }', {
        id: Buffer.from(`Tenant:${owner.tenantId}`).toString('base64url'),
      }),
    preExecution: false,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'a forged cursor',
    request: () => q('{ workflows(after: "eyJ4IjoxfQ") { nodes { id } } }'),
    preExecution: false,
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'a garbage Authorization header',
    request: () =>
      json({ query: '{ viewer { userId } }' }, { authorization: 'Basic Zm9vOmJhcg==' }),
    preExecution: false,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'a well-formed but unknown API key',
    request: () =>
      json({ query: '{ viewer { userId } }' }, {}, `rk_${'0'.repeat(12)}_${'A'.repeat(43)}`),
    preExecution: false,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'an unsupported content type',
    request: () =>
      fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/xml' },
        body: '<query/>',
      }),
    preExecution: true,
    status: 415,
  },
  {
    name: 'an unknown persisted query',
    request: () =>
      json({ extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }),
    preExecution: true,
    check: (body) => expect(body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND'),
  },
  {
    name: 'a workflow definition over the size limit',
    request: async () => {
      const wf = (await (
        await q(
          `mutation { createWorkflow(input: { name: "big-${Date.now()}" }) { workflow { id } } }`,
        )
      ).json()) as { data: { createWorkflow: { workflow: { id: string } } } };
      const steps = Object.fromEntries(
        Array.from({ length: 4000 }, (_, i) => [
          `s${i}`,
          { type: 'succeed', description: 'x'.repeat(60) },
        ]),
      );
      return q(
        'mutation($i: CreateWorkflowVersionInput!) { createWorkflowVersion(input: $i) { workflowVersion { version } } }',
        {
          i: { workflowId: wf.data.createWorkflow.workflow.id, definition: { start: 's0', steps } },
        },
      );
    },
    preExecution: false,
    code: 'BAD_USER_INPUT',
    check: (body) => expect(body.errors[0].extensions.field).toBe('input.definition'),
  },
];

describe('malicious input', () => {
  it('has at least 30 cases', () => {
    expect(attacks.length).toBeGreaterThanOrEqual(30);
  });

  it.each(attacks.map((a) => [a.name, a] as const))('%s', async (_name, attack) => {
    const before = api.resolvedFields();
    const response = await attack.request();
    const text = await response.text();
    const body = text.startsWith('{') ? JSON.parse(text) : null;
    if (attack.status) expect(response.status).toBe(attack.status);
    else expect(response.status).toBeLessThan(500);
    if (attack.code) expect(body?.errors?.[0]?.extensions?.code).toBe(attack.code);
    if (response.status < 400) expect(body?.errors?.length, 'a typed error').toBeGreaterThan(0);
    if (body?.errors) for (const e of body.errors) expect(typeof e.extensions?.code).toBe('string');
    expect(text).not.toMatch(/ at .*\.(ts|js):\d+/);
    attack.check?.(body);
    if (attack.preExecution) expect(api.resolvedFields(), 'no resolver ran').toBe(before);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
  });

  it('created nothing on the way', async () => {
    const { rows } = await api.db.ownerPool.query(
      `SELECT name FROM workflows WHERE name IN ('via-get', 'csrf') OR name LIKE 'evil%'`,
    );
    expect(rows).toEqual([]);
  });
});
