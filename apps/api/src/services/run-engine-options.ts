import type { EngineOptions } from '@roster/engine';
import type { RequestContext } from '../graphql/context.js';
import { sealingEngineOptions } from './personal-data-presenter.js';

/**
 * The engine options of a request that starts, cancels or retries runs: the tenant's limit of
 * running runs (ROSTER_MAX_RUNS_PER_TENANT, the same the workers admit within) and the sealing of
 * personal data in run inputs.
 */
export function runEngineOptions(ctx: RequestContext): EngineOptions {
  return { ...sealingEngineOptions(ctx), maxRunsPerTenant: ctx.limits.maxRunsPerTenant };
}
