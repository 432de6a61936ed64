import type { PoolClient } from '@roster/db';
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
  /**
   * Seals personal data in a run's input before it is stored (@roster/governance's
   * crypto-shredding vault), in the starting transaction; the idempotency hash is taken over the
   * input as given. Default: the input is stored as given.
   */
  sealInput?: (client: PoolClient, tenantId: string, input: unknown) => Promise<unknown>;
  /**
   * A cheap test (no IO) of whether an input may hold personal data: when it says no, sealInput
   * is not called and startRun may take its one-round-trip path. Default: every input may.
   */
  mayHoldPersonalData?: (input: unknown) => boolean;
}

export const DEFAULT_MAX_RUNS_PER_TENANT = 100;
/** Infrastructure retries of one job (a crash, Postgres restarting); step retries are separate. */
export const JOB_MAX_ATTEMPTS = 25;
/** Runs one startRuns call may create. */
export const MAX_RUNS_PER_CALL = 1000;
