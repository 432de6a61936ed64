import { randomBytes } from 'node:crypto';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import type { Policy } from '@roster/authz';
import type { Pool } from '@roster/db';
import type { GovernancePolicy } from '@roster/governance';
import type { Logger } from '@roster/telemetry';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GraphQLError } from 'graphql';
import { AuthCache } from '../auth/auth-cache.js';
import { type AuthResult, authenticate } from '../auth/authenticate.js';
import {
  type ApiLimits,
  DEFAULT_LIMITS,
  type MarketplaceOptions,
  type RequestContext,
} from './context.js';
import { createErrorFormatter } from './error-format.js';
import { armor, costLimitPlugin, tokenLimitHook } from './hardening.js';
import { TokenBucketLimiter } from './rate-limiter.js';
import { apiSchema } from './schema.js';

export interface GraphqlOptions {
  appPool: Pool;
  policy: Policy;
  logger: Logger;
  production: boolean;
  limits?: Partial<ApiLimits>;
  /** Called for every field a resolver resolves (metrics; tests use it to prove none ran). */
  onFieldResolved?: () => void;
  marketplace?: MarketplaceOptions;
  /** Domain of inbound e-mail trigger addresses (ROSTER_INBOUND_EMAIL_DOMAIN). */
  inboundEmailDomain?: string;
  /** Governance defaults (policies/governance.yaml), loaded at boot. */
  governanceDefaults?: GovernancePolicy;
}

/** W3C trace context: reuse the caller's trace id when a valid `traceparent` comes in. */
function traceIdOf(request: FastifyRequest): string {
  const header = request.headers.traceparent;
  const match =
    typeof header === 'string'
      ? /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(header)
      : null;
  return match && match[1] !== '0'.repeat(32)
    ? (match[1] as string)
    : randomBytes(16).toString('hex');
}

const ids = new WeakMap<object, { requestId: string; traceId: string }>();

/** Every response carries the request and trace ids in `extensions` (and headers, see server.ts). */
const idsInExtensions: ApolloServerPlugin<RequestContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, contextValue }) {
        if (response.body.kind === 'single' && contextValue) {
          response.body.singleResult.extensions = {
            ...response.body.singleResult.extensions,
            requestId: contextValue.requestId,
            traceId: contextValue.traceId,
          };
        }
      },
    };
  },
};

function fieldCounter(onField: () => void): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async executionDidStart() {
          return { willResolveField: () => onField() };
        },
      };
    },
  };
}

/** Mounts Apollo at /graphql with authentication, rate limits and the hardening rules. */
export async function registerGraphql(
  app: FastifyInstance,
  options: GraphqlOptions,
): Promise<void> {
  const limits: ApiLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const schema = apiSchema();
  const protection = armor();
  const perCredential = new TokenBucketLimiter(limits.requestsPerSecondPerCredential);
  const perTenant = new TokenBucketLimiter(limits.requestsPerSecondPerTenant);
  const authCache = new AuthCache();
  const authenticateCached = async (header: string | undefined): Promise<AuthResult> => {
    if (!header) return { ok: null };
    const key = AuthCache.keyOf(header);
    const cached = authCache.get(key);
    if (cached) return { ok: true, auth: cached };
    const result = await authenticate(options.appPool, options.policy, header);
    if (result.ok) authCache.set(key, result.auth);
    return result;
  };

  const apollo = new ApolloServer<RequestContext>({
    schema,
    ...protection,
    validationRules: [...protection.validationRules],
    plugins: [
      ...(protection.plugins as ApolloServerPlugin<RequestContext>[]),
      costLimitPlugin(schema),
      idsInExtensions,
      ...(options.onFieldResolved ? [fieldCounter(options.onFieldResolved)] : []),
      fastifyApolloDrainPlugin(app),
    ],
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    introspection: !options.production,
    includeStacktraceInErrorResponses: false,
    formatError: createErrorFormatter({ production: options.production, logger: options.logger }),
  });
  await apollo.start();

  app.addHook('preHandler', async (request, reply) => {
    if (request.url.startsWith('/graphql')) await tokenLimitHook(request, reply);
  });
  await app.register(fastifyApollo(apollo), {
    path: '/graphql',
    context: async (request) => {
      const requestId = String(request.id);
      const traceId = traceIdOf(request);
      ids.set(request, { requestId, traceId });
      const signal = AbortSignal.timeout(limits.requestTimeoutMs);
      const result = await authenticateCached(request.headers.authorization);
      const context: RequestContext = {
        requestId,
        traceId,
        logger: request.log.child({ traceId }) as unknown as Logger,
        ip: request.ip,
        appPool: options.appPool,
        policy: options.policy,
        limits,
        auth: result.ok ? result.auth : null,
        authFailure: result.ok === false ? result.reason : null,
        signal,
        authCache,
        marketplace: options.marketplace ?? {},
        ...(options.inboundEmailDomain ? { inboundEmailDomain: options.inboundEmailDomain } : {}),
        ...(options.governanceDefaults ? { governanceDefaults: options.governanceDefaults } : {}),
      };
      if (context.auth) {
        const { actor } = context.auth;
        const credential =
          actor.kind === 'apiKey' ? `key:${actor.keyId}` : `user:${actor.memberId}`;
        for (const verdict of [
          perCredential.take(credential),
          perTenant.take(`tenant:${actor.tenantId}`),
        ]) {
          if (!verdict.ok) {
            throw new GraphQLError(
              `Too many requests. Try again in ${verdict.retryAfterSeconds} s.`,
              {
                extensions: {
                  code: 'RATE_LIMITED',
                  retryAfterSeconds: verdict.retryAfterSeconds,
                  http: {
                    status: 429,
                    headers: new Map([['retry-after', String(verdict.retryAfterSeconds)]]),
                  },
                },
              },
            );
          }
        }
      }
      return context;
    },
  });
  app.addHook('onSend', async (request, reply) => {
    const known = ids.get(request);
    if (known) reply.header('x-trace-id', known.traceId);
  });
}
