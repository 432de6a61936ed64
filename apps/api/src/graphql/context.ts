import type { Policy } from '@roster/authz';
import type { Pool } from '@roster/db';
import { DEFAULT_MAX_RUNS_PER_TENANT } from '@roster/engine';
import type { GovernancePolicy } from '@roster/governance';
import type { KeyProvider, PluginInvoker } from '@roster/plugin-host';
import type { Logger } from '@roster/telemetry';
import type { AuthCache } from '../auth/auth-cache.js';
import type { Authenticated } from '../auth/authenticate.js';
import { ApiError, unauthenticated } from '../errors.js';

export interface ApiLimits {
  /** Largest JSON definition of a workflow version, in bytes. Default 256 KiB. */
  maxDefinitionBytes: number;
  /** Sign-in attempts per account in one window. Default 10 per 15 minutes. */
  signInAttempts: number;
  /** Sign-in attempts per client IP in one window (offices share an IP). Default 100. */
  signInAttemptsPerIp: number;
  signInWindowSeconds: number;
  /** Requests per second per credential and per tenant (token buckets, per process). */
  requestsPerSecondPerCredential: number;
  requestsPerSecondPerTenant: number;
  /** Wall-clock budget of one GraphQL request. Default 10 s. */
  requestTimeoutMs: number;
  /**
   * Runs of one tenant running at once (ROSTER_MAX_RUNS_PER_TENANT): runs started, cancelled or
   * retried through the API are admitted within it. Default 100, as the workers'.
   */
  maxRunsPerTenant: number;
}

export const DEFAULT_LIMITS: ApiLimits = {
  maxDefinitionBytes: 256 * 1024,
  signInAttempts: 10,
  signInAttemptsPerIp: 100,
  signInWindowSeconds: 900,
  requestsPerSecondPerCredential: 50,
  requestsPerSecondPerTenant: 200,
  requestTimeoutMs: 10_000,
  maxRunsPerTenant: DEFAULT_MAX_RUNS_PER_TENANT,
};

/** What the marketplace operations need beyond the database. */
export interface MarketplaceOptions {
  /** Wraps tenants' data keys (ROSTER_MASTER_KEY). Without it, connections cannot be created or used. */
  keyProvider?: KeyProvider;
  /** E-mail addresses of platform admins (ROSTER_PLATFORM_ADMINS): they review plugin versions. Default none. */
  platformAdmins?: readonly string[];
  /** Runs plugin actions (the plugin pool); `testConnection` needs it. */
  invoker?: PluginInvoker;
}

/** What every resolver gets. Tenant scope comes only from `auth.actor.tenantId`. */
export interface RequestContext {
  requestId: string;
  traceId: string;
  logger: Logger;
  ip: string;
  appPool: Pool;
  policy: Policy;
  limits: ApiLimits;
  auth: Authenticated | null;
  /** Why a presented credential was refused (shown when an operation needs one). */
  authFailure: string | null;
  /** Aborted when the request's time budget runs out. */
  signal: AbortSignal;
  /** Evict from it when a credential stops being valid (revocation, sign-out). */
  authCache: AuthCache;
  marketplace: MarketplaceOptions;
  /** Domain of e-mail trigger addresses (ROSTER_INBOUND_EMAIL_DOMAIN). Default inbound.roster.test. */
  inboundEmailDomain?: string;
  /** Governance defaults loaded at boot (policies/governance.yaml). Default: the built-in ones. */
  governanceDefaults?: GovernancePolicy;
}

export function requireAuth(ctx: RequestContext): Authenticated {
  if (ctx.auth) return ctx.auth;
  throw unauthenticated(ctx.authFailure ?? undefined);
}

export function requireSession(ctx: RequestContext): Authenticated & { sessionTokenHash: string } {
  const auth = requireAuth(ctx);
  if (!auth.sessionTokenHash)
    throw new ApiError('FORBIDDEN', 'This operation needs a signed-in person, not an API key.');
  return auth as Authenticated & { sessionTokenHash: string };
}
