// The runner protocol (`/runner/v1`), as zod schemas shared by the runner (client) and the API
// (server). A runner presents its pool token as `Authorization: Bearer <token>` on every call;
// the token names the pool and so the tenant, which is why no message carries a tenant id.
//
//   POST /runner/v1/register   RegisterRequest  -> RegisterResponse
//   POST /runner/v1/heartbeat  HeartbeatRequest -> HeartbeatResponse
//   POST /runner/v1/claim      ClaimRequest     -> ClaimResponse   (items leased to this runner)
//   POST /runner/v1/complete   CompleteRequest  -> CompleteResponse
//   GET  /runner/v1/models/:sha256            -> the ONNX bytes (application/octet-stream)
//   GET  /runner/v1/models/:sha256/manifest   -> ModelManifest
// Errors: a non-2xx status with ProtocolErrorBody. 401 means "register again" (unknown or
// expired runner id); the token itself being wrong is also 401 and never succeeds on retry.

import { z } from 'zod';
import type { FeaturizerSpec } from './model-signature.js';

export const RUNNER_PROTOCOL_PREFIX = '/runner/v1';

export const runnerPaths = {
  register: `${RUNNER_PROTOCOL_PREFIX}/register`,
  heartbeat: `${RUNNER_PROTOCOL_PREFIX}/heartbeat`,
  claim: `${RUNNER_PROTOCOL_PREFIX}/claim`,
  complete: `${RUNNER_PROTOCOL_PREFIX}/complete`,
  model: (sha256: string) => `${RUNNER_PROTOCOL_PREFIX}/models/${sha256}`,
  manifest: (sha256: string) => `${RUNNER_PROTOCOL_PREFIX}/models/${sha256}/manifest`,
} as const;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lower-case hex sha-256');
const id = z.string().min(1).max(200);

export const executionProviderSchema = z.enum(['webgpu', 'cuda', 'cpu']);
export type ExecutionProvider = z.infer<typeof executionProviderSchema>;

export const runnerCapabilitiesSchema = z.object({
  /** Providers that started on this runner, in preference order. */
  providers: z.array(executionProviderSchema).min(1),
  /** Host memory, bytes. */
  memoryBytes: z.number().int().nonnegative(),
  /** Accelerator memory, bytes, when known. */
  acceleratorMemoryBytes: z.number().int().nonnegative().optional(),
  maxBatch: z.number().int().positive(),
  threads: z.number().int().positive(),
});
export type RunnerCapabilities = z.infer<typeof runnerCapabilitiesSchema>;

export const registerRequestSchema = z.object({
  /** A stable name for logs (e.g. host name); the server assigns the runner id. */
  name: z.string().min(1).max(200),
  version: z.string().max(100),
  capabilities: runnerCapabilitiesSchema,
});
export type RegisterRequest = z.infer<typeof registerRequestSchema>;

/** The pool's configuration; where given it overrides the runner's local defaults. */
export const poolSettingsSchema = z.object({
  providers: z.array(executionProviderSchema).min(1).optional(),
  maxBatchSize: z.number().int().positive().optional(),
  maxQueueDelayMs: z.number().nonnegative().optional(),
});
export type PoolSettings = z.infer<typeof poolSettingsSchema>;

export const registerResponseSchema = z.object({
  runnerId: id,
  poolId: id,
  heartbeatIntervalMs: z.number().int().positive(),
  pool: poolSettingsSchema.default({}),
});
export type RegisterResponse = z.infer<typeof registerResponseSchema>;

export const heartbeatRequestSchema = z.object({
  runnerId: id,
  /** Items claimed and not yet completed. */
  inFlight: z.number().int().nonnegative(),
  loadedModels: z.array(sha256),
});
export type HeartbeatRequest = z.infer<typeof heartbeatRequestSchema>;

export const heartbeatResponseSchema = z.object({
  /** True asks the runner to stop claiming (finish what it holds). */
  drain: z.boolean().default(false),
});
export type HeartbeatResponse = z.infer<typeof heartbeatResponseSchema>;

/** One item's model input: a dense row, sparse features, or a raw email the runner featurizes. */
export const inferenceInputSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('dense'), values: z.array(z.number()) }),
  z.object({
    kind: z.literal('sparse'),
    indices: z.array(z.number().int().nonnegative()),
    values: z.array(z.number()),
  }),
  z.object({ kind: z.literal('email'), raw: z.string() }),
]);
export type InferenceInput = z.infer<typeof inferenceInputSchema>;

export const claimRequestSchema = z.object({
  runnerId: id,
  maxItems: z.number().int().positive().max(10_000),
  leaseSeconds: z.number().int().positive().max(3600),
  /** How long the server may hold the request open when nothing is queued. */
  waitMs: z.number().int().nonnegative().max(30_000).default(0),
});
export type ClaimRequest = z.input<typeof claimRequestSchema>;

export const claimedItemSchema = z.object({
  requestId: id,
  modelVersion: sha256,
  input: inferenceInputSchema,
  /** ISO time after which the result is no longer wanted. */
  deadline: z.iso.datetime({ offset: true }),
});
export type ClaimedItem = z.infer<typeof claimedItemSchema>;

export const claimResponseSchema = z.object({
  items: z.array(claimedItemSchema),
  /** When the lease on these items ends unless completed (then they are claimable again). */
  leaseExpiresAt: z.iso.datetime({ offset: true }).optional(),
});
export type ClaimResponse = z.infer<typeof claimResponseSchema>;

export const itemResultSchema = z.object({
  requestId: id,
  /** Class scores in the order of the model version's labels. */
  scores: z.array(z.number()),
  label: z.string(),
  confidence: z.number().min(0).max(1),
  /** Claim to result on the runner, ms. */
  latencyMs: z.number().nonnegative(),
});
export type ItemResult = z.infer<typeof itemResultSchema>;

export const itemErrorSchema = z.object({
  requestId: id,
  code: z.string().min(1),
  message: z.string(),
  /** False when retrying the same input cannot help (e.g. malformed input). */
  retryable: z.boolean(),
});
export type ItemError = z.infer<typeof itemErrorSchema>;

export const completeRequestSchema = z
  .object({
    runnerId: id,
    results: z.array(itemResultSchema).default([]),
    errors: z.array(itemErrorSchema).default([]),
  })
  .refine((c) => c.results.length + c.errors.length > 0, 'complete needs results or errors');
export type CompleteRequest = z.input<typeof completeRequestSchema>;

export const completeResponseSchema = z.object({
  accepted: z.number().int().nonnegative(),
  /** Items the server did not take (e.g. the lease had expired and another runner holds it). */
  rejected: z.array(z.object({ requestId: id, reason: z.string() })).default([]),
});
export type CompleteResponse = z.infer<typeof completeResponseSchema>;

export const modelManifestSchema = z.object({
  sha256,
  labels: z.array(z.string()).min(1),
  /** The version's featurizer spec (see FeaturizerSpec); checked again by the runner. */
  featurizer: z.record(z.string(), z.unknown()),
});
export type ModelManifest = Omit<z.infer<typeof modelManifestSchema>, 'featurizer'> & {
  featurizer: FeaturizerSpec;
};

export const protocolErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});
export type ProtocolErrorBody = z.infer<typeof protocolErrorBodySchema>;
