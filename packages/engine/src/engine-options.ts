import type { DefinitionCache } from './definitions.js';

/** Settings shared by the services and the worker; every field has a default. */
export interface EngineOptions {
  /**
   * Runs of one tenant executing at once (status `running`); more wait as `queued` and are
   * admitted as slots free. This is what keeps one tenant's flood from delaying another
   * tenant's run. Default 100.
   */
  maxRunsPerTenant?: number;
  /** Parsed definitions by version. Default: one cache per process. */
  definitions?: DefinitionCache;
}

export const DEFAULT_MAX_RUNS_PER_TENANT = 100;
/** Infrastructure retries of one job (a crash, Postgres restarting); step retries are separate. */
export const JOB_MAX_ATTEMPTS = 25;
/** Runs one startRuns call may create. */
export const MAX_RUNS_PER_CALL = 1000;
