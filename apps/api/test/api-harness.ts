import { randomBytes } from 'node:crypto';
import { createLocalKeyProvider, createSandbox } from '@roster/plugin-host';
import { createLogger } from '@roster/telemetry';
import { createTestDatabase, type TestDatabase } from '@roster/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll } from 'vitest';
import { type ApiLimits, createApiServer, type MarketplaceOptions } from '../src/index.js';

// Test responses are read by path (`data?.signUp.token`); their shape is what each query asked for.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Json = Record<string, any>;

export interface GraphqlResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  data?: Json | null;
  errors?: { message: string; extensions?: Json; path?: string[] }[];
  extensions?: Json;
}

export interface TestApi {
  db: TestDatabase;
  app: FastifyInstance;
  /** The platform admins' e-mails the server reads on each review: push one to make them one. */
  platformAdmins: string[];
  /** How many fields resolvers have resolved so far. */
  resolvedFields: () => number;
  gql(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphqlResult>;
  /** A new tenant with its owner signed in. */
  signUp(
    tenantName?: string,
  ): Promise<{ token: string; userId: string; tenantId: string; email: string }>;
  /** A member of the owner's tenant with `role`, signed in. */
  addMember(
    ownerToken: string,
    role: string,
  ): Promise<{ token: string; userId: string; email: string }>;
  /**
   * A new workflow with `definition` as its version 1 (default: one `succeed` step); its global
   * id.
   */
  publishWorkflow(token: string, name: string, definition?: unknown): Promise<string>;
}

let counter = 0;

function defaultMarketplace(): MarketplaceOptions {
  const sandbox = createSandbox();
  return {
    keyProvider: createLocalKeyProvider({ masterKey: randomBytes(32).toString('base64') }),
    platformAdmins: [],
    // No capabilities: host calls are refused; enough for the test action to run in the sandbox.
    invoker: { invoke: (request) => sandbox.invokeAction({ ...request, capabilities: {} }) },
  };
}
export const PASSWORD = 'correct horse battery staple';

/** The API on a fresh database, driven in-process (fastify.inject: no sockets). */
export async function startTestApi(
  options: {
    production?: boolean;
    limits?: Partial<ApiLimits>;
    /** Default: a fresh master key, no platform admins, plugins run in an in-process sandbox. */
    marketplace?: MarketplaceOptions;
  } = {},
): Promise<TestApi> {
  const db = await createTestDatabase();
  const marketplace = options.marketplace ?? defaultMarketplace();
  // The server keeps this array: an e-mail pushed later counts from the next review on.
  const platformAdmins = (marketplace.platformAdmins ?? []) as string[];
  let resolved = 0;
  const app = await createApiServer({
    appPool: db.appPool,
    logger: createLogger({ level: 'silent', name: 'api-test' }),
    production: options.production ?? false,
    limits: {
      requestsPerSecondPerCredential: 10_000,
      requestsPerSecondPerTenant: 10_000,
      ...options.limits,
    },
    onFieldResolved: () => {
      resolved++;
    },
    marketplace,
  });
  await app.ready();
  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  const gql: TestApi['gql'] = async (query, variables, token) => {
    const response = await app.inject({
      method: 'POST',
      url: '/graphql',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      payload: JSON.stringify({ query, variables }),
    });
    const body = response.body ? JSON.parse(response.body) : {};
    return { status: response.statusCode, headers: response.headers, ...body };
  };

  const signUp: TestApi['signUp'] = async (tenantName = 'Acme') => {
    const email = `owner-${++counter}-${Date.now()}@example.test`;
    const r = await gql(
      `mutation($input: SignUpInput!) { signUp(input: $input) { token viewer { userId tenant { id } } } }`,
      { input: { email, password: PASSWORD, name: 'Owner', tenantName } },
    );
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    const tenantGlobal = r.data?.signUp.viewer.tenant.id as string;
    const tenantId = Buffer.from(tenantGlobal, 'base64url').toString().split(':')[1] as string;
    return { token: r.data?.signUp.token, userId: r.data?.signUp.viewer.userId, tenantId, email };
  };

  const addMember: TestApi['addMember'] = async (ownerToken, role) => {
    const email = `${role}-${++counter}-${Date.now()}@example.test`;
    const invited = await gql(
      `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { token } }`,
      { input: { email, role } },
      ownerToken,
    );
    if (invited.errors) throw new Error(JSON.stringify(invited.errors));
    const accepted = await gql(
      `mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { token viewer { userId } } }`,
      { input: { token: invited.data?.inviteMember.token, password: PASSWORD, name: `A ${role}` } },
    );
    if (accepted.errors) throw new Error(JSON.stringify(accepted.errors));
    return {
      token: accepted.data?.acceptInvitation.token,
      userId: accepted.data?.acceptInvitation.viewer.userId,
      email,
    };
  };

  const publishWorkflow: TestApi['publishWorkflow'] = async (
    token,
    name,
    definition = { start: 'done', steps: { done: { type: 'succeed' } } },
  ) => {
    const created = await gql(
      `mutation($n: String!) { createWorkflow(input: { name: $n }) { workflow { id } } }`,
      { n: name },
      token,
    );
    if (created.errors) throw new Error(JSON.stringify(created.errors));
    const workflowId = created.data?.createWorkflow.workflow.id as string;
    const version = await gql(
      `mutation($i: CreateWorkflowVersionInput!) { createWorkflowVersion(input: $i) { workflowVersion { version } } }`,
      { i: { workflowId, definition } },
      token,
    );
    if (version.errors) throw new Error(JSON.stringify(version.errors));
    return workflowId;
  };

  return {
    db,
    app,
    platformAdmins,
    resolvedFields: () => resolved,
    gql,
    signUp,
    addMember,
    publishWorkflow,
  };
}
