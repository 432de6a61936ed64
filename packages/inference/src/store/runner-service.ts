// The server side of /runner/v1, independent of the HTTP framework: every call starts from the
// pool token, resolved to (tenant, pool); nothing the runner sends names a tenant.

import type { Pool, PoolClient } from '@roster/db';
import type {
  ClaimResponse,
  CompleteResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  ItemError,
  ItemResult,
  ModelManifest,
  RegisterRequest,
  RegisterResponse,
} from '../runner-protocol.js';
import { applyResumes, pendingResumes, type Resume, settleRequests } from './decisions.js';
import {
  HEARTBEAT_INTERVAL_MS,
  heartbeatRunner,
  type PoolIdentity,
  registerRunner,
  resolvePoolToken,
} from './pools.js';
import { claimRequests, completeRequests, type SettledRequest } from './queue.js';
import { modelFile } from './registry.js';

export interface RunnerServiceOptions {
  /** How often an empty long-poll claim looks again, ms. Default 50. */
  claimPollMs?: number;
  /**
   * How often (per tenant, on claims) to resume runs whose decision was recorded but not acted on
   * because a process stopped in between. Default 10 000 ms.
   */
  resumeSweepMs?: number;
  /** Errors after commit (a run that could not be resumed); default: ignored. */
  onError?: (error: unknown, context: Record<string, unknown>) => void;
}

export interface RunnerService {
  authenticate(token: string): Promise<PoolIdentity>;
  register(who: PoolIdentity, body: RegisterRequest): Promise<RegisterResponse>;
  heartbeat(who: PoolIdentity, body: HeartbeatRequest): Promise<HeartbeatResponse>;
  claim(
    who: PoolIdentity,
    body: { runnerId: string; maxItems: number; leaseSeconds: number; waitMs: number },
    signal?: AbortSignal,
  ): Promise<ClaimResponse>;
  complete(
    who: PoolIdentity,
    body: { runnerId: string; results: ItemResult[]; errors: ItemError[] },
  ): Promise<CompleteResponse>;
  model(who: PoolIdentity, sha256: string): Promise<Buffer | undefined>;
  manifest(who: PoolIdentity, sha256: string): Promise<ModelManifest | undefined>;
}

/** Longest a claim is held open on the server, whatever the runner asks: 10 s. */
export const MAX_CLAIM_WAIT_MS = 10_000;

export function createRunnerService(pool: Pool, options: RunnerServiceOptions = {}): RunnerService {
  const pollMs = options.claimPollMs ?? 50;
  const settle =
    (who: PoolIdentity, resumes: Resume[]) =>
    async (client: PoolClient, settled: SettledRequest[]) => {
      resumes.push(...(await settleRequests(client, who.tenantId, settled)));
    };
  const resume = (who: PoolIdentity, resumes: Resume[]) =>
    applyResumes(pool, who.tenantId, resumes, (error, r) =>
      options.onError?.(error, { runId: r.runId, stepId: r.stepId }),
    );

  const sweepMs = options.resumeSweepMs ?? 10_000;
  const lastSweep = new Map<string, number>();
  const lastExpire = new Map<string, number>();
  const sweep = async (who: PoolIdentity) => {
    const now = Date.now();
    if (now - (lastSweep.get(who.tenantId) ?? 0) < sweepMs) return;
    lastSweep.set(who.tenantId, now);
    await resume(who, await pendingResumes(pool, who.tenantId));
  };

  return {
    authenticate: (token) => resolvePoolToken(pool, token),

    async register(who, body) {
      const { runnerId } = await registerRunner(pool, who, body);
      return {
        runnerId,
        poolId: who.poolId,
        heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
        pool: who.settings,
      };
    },

    heartbeat: (who, body) => heartbeatRunner(pool, who, body),

    async claim(who, body, signal) {
      const until = Date.now() + Math.min(body.waitMs, MAX_CLAIM_WAIT_MS);
      await sweep(who);
      for (;;) {
        const resumes: Resume[] = [];
        // The expiry scan runs at most once a second per pool, not on every poll.
        const now = Date.now();
        const expireFirst = now - (lastExpire.get(who.poolId) ?? 0) >= 1000;
        if (expireFirst) lastExpire.set(who.poolId, now);
        const out = await claimRequests(pool, who, body, settle(who, resumes), expireFirst);
        await resume(who, resumes);
        if (out.items.length > 0 || Date.now() >= until || signal?.aborted) return out;
        await new Promise((r) => setTimeout(r, Math.min(pollMs, until - Date.now())));
      }
    },

    async complete(who, body) {
      const resumes: Resume[] = [];
      const out = await completeRequests(pool, who, body, settle(who, resumes));
      await resume(who, resumes);
      return { accepted: out.accepted, rejected: out.rejected };
    },

    async model(who, sha256) {
      return (await modelFile(pool, who.tenantId, sha256))?.bytes;
    },

    async manifest(who, sha256) {
      const file = await modelFile(pool, who.tenantId, sha256);
      return file ? { sha256, labels: file.labels, featurizer: file.featurizer } : undefined;
    },
  };
}
