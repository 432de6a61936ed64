import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiServer } from '@roster/api';
import { withTenant } from '@roster/db';
import { ExecutorRegistry, StepFailure } from '@roster/engine';
import {
  createConnectorExecutor,
  createEgressPolicy,
  createHttpEgress,
  createLocalKeyProvider,
  createPluginPool,
  type InTenant,
  type PluginPool,
} from '@roster/plugin-host';
import { createLogger } from '@roster/telemetry';
import { createTestDatabase } from '@roster/testkit';
import { type RunningWorkerPool, runWorkerPool } from '@roster/worker';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The whole author-to-run path: `roster plugin init` → `test` → `pack` → `publish` (the real
// CLI, over HTTP to a real API) → platform-admin review → install with consent → encrypted
// connection → a workflow whose connector step runs the new action in the plugin pool.

const repo = fileURLToPath(new URL('../../../../../', import.meta.url));
const CANARY = `canary-${randomUUID()}`;
const ADMIN_EMAIL = `platform-admin-${randomUUID().slice(0, 8)}@example.test`;
const PUBLISHER = `acme${randomBytes(3).toString('hex')}`;

let tmp: string;
let api: FastifyInstance;
let apiUrl: string;
let pool: PluginPool;
let worker: RunningWorkerPool;
const logs: string[] = [];
const upstreamCalls: { url: string; headers: IncomingHttpHeaders; closedAt?: number }[] = [];
const db = await createTestDatabase();

// The vendor's API: accepts only the canary token.
const upstream = createServer((req, res) => {
  const call: (typeof upstreamCalls)[number] = { url: req.url ?? '', headers: req.headers };
  upstreamCalls.push(call);
  if (req.headers.authorization !== `Bearer ${CANARY}`) {
    res.statusCode = 401;
    return res.end('{}');
  }
  // A vendor that never answers: the request stays open until its caller goes away.
  if (req.url === '/items/hang') {
    res.on('close', () => {
      call.closedAt = Date.now();
    });
    return;
  }
  res.setHeader('content-type', 'application/json');
  res.end(
    JSON.stringify(
      req.url === '/me' ? { id: 'me' } : { id: req.url?.split('/').pop(), name: 'Widget' },
    ),
  );
});
let upstreamUrl: string;

function roster(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', '@swc-node/register/esm-register', 'apps/cli/src/main.ts', 'plugin', ...args],
      { cwd: repo, timeout: 180_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? Number((error as { code?: number }).code ?? 1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

async function gql(query: string, variables: Record<string, unknown>, token?: string) {
  const response = await fetch(`${apiUrl}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: responses are read by path
  return { text, ...(JSON.parse(text) as { data?: any; errors?: any[] }) };
}

const inTenant: InTenant = (tenantId, fn) =>
  withTenant(db.appPool, tenantId, ({ client }) => fn(client));

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'roster-marketplace-e2e-'));
  await symlink(join(repo, 'node_modules'), join(tmp, 'node_modules'), 'dir');
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

  const keyProvider = createLocalKeyProvider({ masterKey: randomBytes(32).toString('base64') });
  pool = createPluginPool({
    size: 1,
    // The operator's allow-list lets plugins reach the local stand-in for the vendor's API.
    capabilities: {
      http: createHttpEgress({ policy: createEgressPolicy({ allow: ['127.0.0.1'] }) }),
    },
  });
  const logger = createLogger({
    level: 'trace',
    name: 'marketplace-e2e',
    destination: { write: (line: string) => logs.push(line) },
  });
  api = await createApiServer({
    appPool: db.appPool,
    logger,
    limits: { requestsPerSecondPerCredential: 10_000, requestsPerSecondPerTenant: 10_000 },
    marketplace: { keyProvider, platformAdmins: [ADMIN_EMAIL], invoker: pool },
  });
  await api.listen({ port: 0, host: '127.0.0.1' });
  apiUrl = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  worker = await runWorkerPool({
    appUrl: db.appUrl,
    executors: new ExecutorRegistry().registerConnector(
      createConnectorExecutor({
        inTenant,
        keyProvider,
        invoker: pool,
        toStepError: (error, fatal) => new StepFailure(error.code, error.message, { fatal }),
      }),
    ),
    concurrency: 2,
    sweepMs: 100,
    pollIntervalMs: 100,
  });
});

afterAll(async () => {
  await worker?.stop();
  await api?.close();
  await pool?.close();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  await db.drop();
  await rm(tmp, { recursive: true, force: true });
});

/** The author points the scaffold at a base URL the tenant enters (hostsFromConnection). */
async function adaptScaffold(dir: string) {
  const edit = async (file: string, from: string | RegExp, to: string) => {
    const path = join(dir, file);
    const text = await readFile(path, 'utf8');
    const next = text.replace(from, to);
    expect(next, `${file} changed`).not.toBe(text);
    await writeFile(path, next);
  };
  await edit(
    'src/index.ts',
    "capabilities: { http: { hosts: ['api.example.com'] } }",
    "capabilities: { http: { hosts: [], hostsFromConnection: ['baseUrl'] } }",
  );
  await edit(
    'src/connection.ts',
    'z.object({ token: z.string().min(1) })',
    'z.object({ token: z.string().min(1), baseUrl: z.url() })',
  );
  // Source text of the plugin, not templates of this file.
  await edit(
    'src/transport.ts',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: plugin source text
    '`https://api.example.com${path}`',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: plugin source text
    '`${ctx.secrets.baseUrl}${path}`',
  );
  await edit(
    'src/plugin.test.ts',
    /connection: \{ token: '(t0k|bad)' \}, hosts/g,
    // The base URL is the local stand-in itself (127.0.0.1), which the harness reaches only
    // when the test says so.
    "connection: { token: '$1', baseUrl: hosts['api.example.com'] }, allowLoopback: true",
  );
}

describe('plugin marketplace end to end', () => {
  it('init → test → pack → publish → review → install → connection → a workflow runs the action', async () => {
    // 1. Author: scaffold, adapt, test, sign, pack.
    const dir = join(tmp, 'acme-crm');
    expect((await roster('init', 'acme-crm', '--dir', dir)).code).toBe(0);
    await adaptScaffold(dir);
    const tested = await roster('test', dir);
    expect(tested.code, tested.stdout + tested.stderr).toBe(0);
    expect((await roster('keygen', '--publisher', PUBLISHER, '--out', tmp)).code).toBe(0);
    const packed = await roster('pack', dir, '--key', join(tmp, `${PUBLISHER}.key.json`));
    expect(packed.code, packed.stderr).toBe(0);
    const file = join(dir, 'dist', 'acme-crm-0.1.0.roster-plugin.json');

    // 2. The publisher's tenant: sign up (this person is also a platform admin), register the key.
    const signUp = await gql(`mutation($i: SignUpInput!) { signUp(input: $i) { token } }`, {
      i: {
        email: ADMIN_EMAIL,
        password: 'correct horse battery staple',
        name: 'A',
        tenantName: 'Acme',
      },
    });
    const token = signUp.data.signUp.token as string;
    const pub = JSON.parse(await readFile(join(tmp, `${PUBLISHER}.pub.json`), 'utf8'));
    const registered = await gql(
      `mutation($i: RegisterPublisherInput!) { registerPublisher(input: $i) { publisher { name keyIds } } }`,
      { i: { name: PUBLISHER, publicKey: pub.publicKey } },
      token,
    );
    expect(registered.data.registerPublisher.publisher.keyIds).toEqual([pub.keyId]);

    // 3. A tampered package is refused before anything is stored; the real one goes to review.
    const pkg = JSON.parse(await readFile(file, 'utf8'));
    const tamperedFile = join(tmp, 'tampered.roster-plugin.json');
    await writeFile(tamperedFile, JSON.stringify({ ...pkg, code: `${pkg.code};globalThis.x=1` }));
    const refused = await roster('publish', tamperedFile, '--api', apiUrl, '--token', token);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/BAD_USER_INPUT: .*integrity/);
    const { rows: stored } = await db.ownerPool.query(
      'SELECT count(*)::int AS n FROM plugin_versions',
    );
    expect(stored[0].n).toBe(0);

    const published = await roster(
      'publish',
      file,
      '--api',
      apiUrl,
      '--token',
      token,
      '--changelog',
      'First release.',
    );
    expect(published.code, published.stderr).toBe(0);
    expect(published.stdout).toMatch(/Published acme-crm@0\.1\.0 \(pending review\)/);
    const versionId = published.stdout.trim().split(' ').pop() as string;
    expect(
      (await gql('{ plugins(search: "acme") { nodes { key } } }', {}, token)).data.plugins.nodes,
    ).toEqual([]);

    const approved = await gql(
      `mutation($i: ReviewPluginVersionInput!) { reviewPluginVersion(input: $i) { pluginVersion { reviewState } } }`,
      { i: { id: versionId, decision: 'APPROVED', note: 'Looks good.' } },
      token,
    );
    expect(approved.data.reviewPluginVersion.pluginVersion.reviewState).toBe('APPROVED');

    // 4. A tenant admin (another tenant) finds it, installs it with consent, adds a connection.
    const tenant = await gql(`mutation($i: SignUpInput!) { signUp(input: $i) { token } }`, {
      i: {
        email: `t-${randomUUID()}@example.test`,
        password: 'correct horse battery staple',
        name: 'T',
        tenantName: 'Customer',
      },
    });
    const admin = tenant.data.signUp.token as string;
    const listed = await gql(
      `{ plugins(search: "acme") { nodes { id key versions { id version changelog requestedCapabilities } } } }`,
      {},
      admin,
    );
    const listing = listed.data.plugins.nodes[0];
    expect(listing.key).toBe('acme-crm');
    expect(listing.versions).toEqual([
      {
        id: versionId,
        version: '0.1.0',
        changelog: 'First release.',
        requestedCapabilities: ['http'],
      },
    ]);
    const noConsent = await gql(
      `mutation($i: InstallPluginInput!) { installPlugin(input: $i) { installation { id } } }`,
      { i: { versionId, grantedCapabilities: [] } },
      admin,
    );
    expect(noConsent.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.grantedCapabilities',
      missing: ['http'],
    });
    const installed = await gql(
      `mutation($i: InstallPluginInput!) { installPlugin(input: $i) { installation { id grantedCapabilities } } }`,
      { i: { versionId, grantedCapabilities: ['http'] } },
      admin,
    );
    const installationId = installed.data.installPlugin.installation.id as string;
    const connection = await gql(
      `mutation($i: CreateConnectionInput!) { createConnection(input: $i) { connection { id name keyVersion } } }`,
      { i: { installationId, name: 'main', secrets: { token: CANARY, baseUrl: upstreamUrl } } },
      admin,
    );
    expect(connection.data.createConnection.connection).toMatchObject({
      name: 'main',
      keyVersion: 1,
    });
    expect(connection.text).not.toContain(CANARY);
    const connectionId = connection.data.createConnection.connection.id as string;

    const tested2 = await gql(
      `mutation($i: ConnectionIdInput!) { testConnection(input: $i) { result { ok code message } } }`,
      { i: { id: connectionId } },
      admin,
    );
    expect(tested2.data.testConnection.result).toMatchObject({ ok: true, code: null });

    // 5. A workflow whose connector step calls the new action runs to `succeeded`.
    const wf = await gql(
      `mutation { createWorkflow(input: { name: "crm" }) { workflow { id } } }`,
      {},
      admin,
    );
    const workflowId = wf.data.createWorkflow.workflow.id as string;
    const version = await gql(
      `mutation($i: CreateWorkflowVersionInput!) { createWorkflowVersion(input: $i) { workflowVersion { version } } }`,
      {
        i: {
          workflowId,
          definition: {
            start: 'get',
            steps: {
              get: {
                type: 'connector',
                connector: 'acme-crm',
                action: 'getItem',
                input: 'input',
                end: true,
              },
            },
          },
        },
      },
      admin,
    );
    expect(version.errors).toBeUndefined();
    const started = await gql(
      `mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`,
      { i: { workflowId, input: { id: 'w1' } } },
      admin,
    );
    const runId = started.data.startRun.run.id as string;
    let run:
      | { status: string; output: unknown; steps: { stepId: string; status: string }[] }
      | undefined;
    for (let i = 0; i < 300; i++) {
      const r = await gql(
        `query($id: ID!) { run(id: $id) { status output error { code message } steps { stepId status } } }`,
        { id: runId },
        admin,
      );
      run = r.data.run;
      if (
        run &&
        ['succeeded', 'failed', 'dead_lettered', 'cancelled'].includes(run.status.toLowerCase())
      )
        break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(run?.status.toLowerCase(), JSON.stringify(run)).toBe('succeeded');
    expect(run?.output).toEqual({ id: 'w1', name: 'Widget' });
    const call = upstreamCalls.find((c) => c.url === '/items/w1');
    expect(call?.headers['idempotency-key']).toMatch(/\/get$/);

    // 5b. Cancelling a run stops its call in flight: the plugin's request to the vendor is
    // aborted at once, not when the sandbox's 5 s timeout ends it.
    const hanging = await gql(
      `mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`,
      { i: { workflowId, input: { id: 'hang' } } },
      admin,
    );
    const hangingRun = hanging.data.startRun.run.id as string;
    let hangCall: (typeof upstreamCalls)[number] | undefined;
    for (let i = 0; i < 300 && !hangCall; i++) {
      hangCall = upstreamCalls.find((c) => c.url === '/items/hang');
      if (!hangCall) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(hangCall, 'the plugin called the vendor').toBeDefined();
    const cancelledAt = Date.now();
    const cancelled = await gql(
      'mutation($id: ID!) { cancelRun(input: { id: $id }) { run { status } } }',
      { id: hangingRun },
      admin,
    );
    expect(cancelled.data.cancelRun.run.status.toLowerCase()).toBe('cancelled');
    for (let i = 0; i < 150 && hangCall?.closedAt === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(hangCall?.closedAt, 'the request was aborted').toBeDefined();
    expect((hangCall?.closedAt ?? Number.POSITIVE_INFINITY) - cancelledAt).toBeLessThan(2_500);

    // 6. The canary secret appears nowhere: logs, job payloads, step results, audit rows, errors.
    const badSecrets = await gql(
      `mutation($i: CreateConnectionInput!) { createConnection(input: $i) { connection { id } } }`,
      { i: { installationId, name: 'bad', secrets: { token: CANARY, n: 5 } } },
      admin,
    );
    expect(badSecrets.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(badSecrets.text).not.toContain(CANARY);
    const dump = async (sql: string) => JSON.stringify((await db.ownerPool.query(sql)).rows);
    const stores = {
      logs: logs.join('\n'),
      jobs: await dump('SELECT * FROM graphile_worker._private_jobs'),
      steps: await dump('SELECT * FROM step_runs'),
      runs: await dump('SELECT * FROM runs'),
      audit: await dump('SELECT * FROM audit_events'),
      connections: await dump("SELECT encode(ciphertext, 'escape') AS c FROM connections"),
    };
    expect(stores.logs.length).toBeGreaterThan(0);
    expect(stores.audit).toContain('connection.created');
    for (const [where, text] of Object.entries(stores)) {
      expect(text.includes(CANARY), `canary in ${where}`).toBe(false);
    }
  }, 600_000);
});
