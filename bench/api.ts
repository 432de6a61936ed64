// bench:api — an authenticated GraphQL list query (a tenant's first 20 workflows, API key, CASL,
// RLS, hardening) through the full stack, beside a bare fastify route returning the same JSON from
// the same database, in the same run. Load comes from autocannon in a child process.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { createApiServer } from '@roster/api';
import { appUrlFor, createPool, withTenant } from '@roster/db';
import { createLogger } from '@roster/telemetry';
import Fastify from 'fastify';
import { startBenchPostgres } from './src/bench-postgres.js';
import { benchEnv, median, printReport, round } from './src/report.js';

const CONNECTIONS = 50;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = 3;
const QUERY =
  '{ workflows(first: 20) { nodes { id name description status latestVersion createdAt updatedAt } } }';

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

const autocannonBin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

function load(
  url: string,
  options: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
): Promise<LoadResult> {
  const args = [
    autocannonBin,
    '-c',
    String(CONNECTIONS),
    '-d',
    String(SECONDS),
    '-m',
    options.method,
    '--json',
  ];
  for (const [k, v] of Object.entries(options.headers)) args.push('-H', `${k}=${v}`);
  if (options.body) args.push('-b', options.body);
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited with ${code}`));
      const r = JSON.parse(out);
      resolve({
        rps: r.requests.average,
        p50: r.latency.p50,
        p99: r.latency.p99,
        errors: r.errors,
        non2xx: r.non2xx,
      });
    });
  });
}

const pg = await startBenchPostgres(process.env.DATABASE_URL);
const appPool = createPool(appUrlFor(pg.ownerUrl, pg.appPassword), {
  max: 20,
  applicationName: 'bench-api',
});
const ownerPool = createPool(pg.ownerUrl, { max: 20, applicationName: 'bench-bare' });
const logger = createLogger({ level: 'silent', name: 'bench' });
const api = await createApiServer({
  appPool,
  logger,
  production: true,
  limits: { requestsPerSecondPerCredential: 1e9, requestsPerSecondPerTenant: 1e9 },
});
await api.listen({ host: '127.0.0.1', port: 0 });
const apiUrl = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}/graphql`;

// Seed through the API itself: a tenant, 30 workflows, an API key with workflows:read.
async function gql(query: string, token?: string) {
  const r = await fetch(apiUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: seeding reads fields by path
  const body = (await r.json()) as { data?: Record<string, any>; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  // biome-ignore lint/suspicious/noExplicitAny: as above
  return body.data as Record<string, any>;
}
const signed = await gql(
  `mutation { signUp(input: { email: "bench@example.test", password: "bench password 123", name: "Bench", tenantName: "Bench" }) { token viewer { tenant { id } } } }`,
);
const session = signed.signUp.token as string;
const tenantId = Buffer.from(signed.signUp.viewer.tenant.id, 'base64url')
  .toString()
  .split(':')[1] as string;
for (let i = 0; i < 30; i++)
  await gql(
    `mutation { createWorkflow(input: { name: "Workflow ${i}", description: "Triage inbound mail ${i}" }) { workflow { id } } }`,
    session,
  );
const apiKey = (
  await gql(
    `mutation { createApiKey(input: { name: "bench", scopes: ["workflows:read"] }) { token } }`,
    session,
  )
).createApiKey.token as string;

// The baseline: the same rows, the same JSON shape, one plain query, no auth, no GraphQL.
const bare = Fastify();
bare.get('/workflows-rls', async () =>
  withTenant(appPool, tenantId, async ({ client }) => ({
    rows: (await client.query('SELECT id FROM workflows WHERE tenant_id = $1 LIMIT 20', [tenantId]))
      .rows,
  })),
);
bare.get('/workflows', async () => {
  const { rows } = await ownerPool.query(
    `SELECT id, name, description, status, latest_version AS "latestVersion", created_at AS "createdAt", updated_at AS "updatedAt"
       FROM workflows WHERE tenant_id = $1 ORDER BY created_at, id LIMIT 20`,
    [tenantId],
  );
  return {
    data: {
      workflows: {
        nodes: rows.map((r) => ({
          ...r,
          id: Buffer.from(`Workflow:${r.id}`).toString('base64url'),
          status: r.status.toUpperCase(),
        })),
      },
    },
  };
});
await bare.listen({ host: '127.0.0.1', port: 0 });
const bareUrl = `http://127.0.0.1:${(bare.server.address() as AddressInfo).port}/workflows`;

const gqlRequest = {
  method: 'POST' as const,
  headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
  body: JSON.stringify({ query: QUERY }),
};
// Warm up both paths (JIT, pools, prepared plans).
await load(bareUrl, { method: 'GET', headers: {} });
await load(apiUrl, gqlRequest);

const bareRuns: LoadResult[] = [];
const gqlRuns: LoadResult[] = [];
for (let i = 0; i < ROUNDS; i++) {
  bareRuns.push(await load(bareUrl, { method: 'GET', headers: {} }));
  gqlRuns.push(await load(apiUrl, gqlRequest));
  console.log(
    `round ${i + 1}: bare ${round(bareRuns[i]?.rps ?? 0, 0)} rps (p99 ${bareRuns[i]?.p99} ms), graphql ${round(gqlRuns[i]?.rps ?? 0, 0)} rps (p99 ${gqlRuns[i]?.p99} ms)`,
  );
}
const failures = [...bareRuns, ...gqlRuns].reduce((n, r) => n + r.errors + r.non2xx, 0);
const bareRps = median(bareRuns.map((r) => r.rps));
const gqlRps = median(gqlRuns.map((r) => r.rps));

await api.close();
await bare.close();
await Promise.all([appPool.end(), ownerPool.end()]);
await pg.stop();

printReport({
  bench: 'api',
  figures: {
    graphql_rps: round(gqlRps, 0),
    bare_rps: round(bareRps, 0),
    failed_requests: failures,
  },
  ratios: { graphql_vs_bare_rps: round(gqlRps / bareRps, 3) },
  latency_ms: {
    graphql_p50: median(gqlRuns.map((r) => r.p50)),
    graphql_p99: median(gqlRuns.map((r) => r.p99)),
    bare_p50: median(bareRuns.map((r) => r.p50)),
    bare_p99: median(bareRuns.map((r) => r.p99)),
  },
  env: { ...benchEnv(pg.version), connections: CONNECTIONS, seconds_per_run: SECONDS, fsync: 'on' },
});
