import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { loadPolicyFile, type Policy } from '@roster/authz';
import type { Pool } from '@roster/db';
import { type GovernancePolicy, loadGovernancePolicyFile } from '@roster/governance';
import type { Logger } from '@roster/telemetry';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { registerGraphql } from './graphql/apollo.js';
import { type ApiLimits, DEFAULT_LIMITS, type MarketplaceOptions } from './graphql/context.js';
import { registerAuditRoutes } from './http/audit-routes.js';
import { registerHealthRoutes } from './http/health-routes.js';
import { registerRunnerRoutes } from './http/runner-routes.js';
import { registerWebhookRoutes } from './http/webhook-routes.js';
import { sealingOptions } from './services/personal-data-presenter.js';

/** policies/roles.yaml at the repository root. */
export const ROLES_FILE = fileURLToPath(new URL('../../../policies/roles.yaml', import.meta.url));

/** policies/governance.yaml at the repository root: the governance defaults of every tenant. */
export const GOVERNANCE_FILE = fileURLToPath(
  new URL('../../../policies/governance.yaml', import.meta.url),
);

export interface ApiDependencies {
  appPool: Pool;
  logger: Logger;
  /** Compiled roles and scopes; default: policies/roles.yaml. */
  policy?: Policy;
  /** Production hides internals in errors and turns introspection off. */
  production?: boolean;
  limits?: Partial<ApiLimits>;
  onFieldResolved?: () => void;
  /** Master key provider, platform admins and plugin runner for the marketplace. Default none. */
  marketplace?: MarketplaceOptions;
  /** Domain of inbound e-mail trigger addresses. Default `inbound.roster.test`. */
  inboundEmailDomain?: string;
  /** Governance defaults; default: policies/governance.yaml, read and checked at boot. */
  governanceDefaults?: GovernancePolicy;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/** Largest request body: 1 MiB (a 10 MB string is refused with 413 before parsing). */
export const BODY_LIMIT_BYTES = 1_048_576;

/**
 * The HTTP ingress. Every request gets an id (the caller's `x-request-id` when well-formed, else a
 * new one) that is echoed in the response header and carried by every log line of the request.
 */
export async function createApiServer({
  appPool,
  logger,
  policy,
  production = false,
  limits,
  onFieldResolved,
  marketplace,
  inboundEmailDomain,
  governanceDefaults,
}: ApiDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    requestTimeout: 30_000,
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  const roles = policy ?? (await loadPolicyFile(ROLES_FILE));
  registerHealthRoutes(app, appPool);
  registerAuditRoutes(app, appPool, roles);
  registerRunnerRoutes(app, appPool);
  const resolvedLimits: ApiLimits = { ...DEFAULT_LIMITS, ...limits };
  await registerWebhookRoutes(app, appPool, {
    ...sealingOptions(marketplace?.keyProvider),
    maxRunsPerTenant: resolvedLimits.maxRunsPerTenant,
  });
  await registerGraphql(app, {
    appPool,
    logger,
    policy: roles,
    production,
    limits: resolvedLimits,
    ...(onFieldResolved ? { onFieldResolved } : {}),
    ...(marketplace ? { marketplace } : {}),
    ...(inboundEmailDomain ? { inboundEmailDomain } : {}),
    governanceDefaults: governanceDefaults ?? (await loadGovernancePolicyFile(GOVERNANCE_FILE)),
  });
  return app;
}
