// The runner's side of `/runner/v1` over HTTP: one method per call, the pool token as a
// bearer token, every response parsed with the shared schemas. It holds no loop or state;
// the Runner decides when to call and what to do on failure.

import {
  type ClaimRequest,
  type ClaimResponse,
  type CompleteRequest,
  type CompleteResponse,
  claimResponseSchema,
  completeResponseSchema,
  type HeartbeatRequest,
  type HeartbeatResponse,
  heartbeatResponseSchema,
  type ModelManifest,
  modelManifestSchema,
  protocolErrorBodySchema,
  type RegisterRequest,
  type RegisterResponse,
  registerResponseSchema,
  runnerPaths,
  sha256Hex,
} from '@roster/inference';
import { RunnerError } from './errors.js';

/** The part of a zod schema the client uses (keeps zod a dependency of @roster/inference only). */
interface Schema<T> {
  safeParse(
    value: unknown,
  ): { success: true; data: T } | { success: false; error: { issues: Array<{ message: string }> } };
}

export interface RunnerClientOptions {
  /** The API's base URL, e.g. `https://roster.example.com` (paths start with /runner/v1). */
  baseUrl: string;
  /** The pool token, sent as `Authorization: Bearer <token>`. */
  poolToken: string;
  /** Per-request limit, ms, added to a claim's `waitMs`. Default 30 000. */
  requestTimeoutMs?: number;
}

export class RunnerClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: RunnerClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch (cause) {
      throw new RunnerError(
        'CONFIG_INVALID',
        `The API URL '${options.baseUrl}' is not a URL.`,
        {},
        { cause },
      );
    }
    if (!options.poolToken) {
      throw new RunnerError(
        'CONFIG_INVALID',
        "The pool token is empty: copy it from the pool's settings in the portal.",
      );
    }
    this.baseUrl = url.toString().replace(/\/$/, '');
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  register(body: RegisterRequest): Promise<RegisterResponse> {
    return this.post(runnerPaths.register, body, registerResponseSchema);
  }

  heartbeat(body: HeartbeatRequest): Promise<HeartbeatResponse> {
    return this.post(runnerPaths.heartbeat, body, heartbeatResponseSchema);
  }

  claim(body: ClaimRequest): Promise<ClaimResponse> {
    return this.post(runnerPaths.claim, body, claimResponseSchema, body.waitMs ?? 0);
  }

  complete(body: CompleteRequest): Promise<CompleteResponse> {
    return this.post(runnerPaths.complete, body, completeResponseSchema);
  }

  async fetchManifest(sha256: string): Promise<ModelManifest> {
    const res = await this.send(runnerPaths.manifest(sha256), { method: 'GET' });
    // The featurizer is checked against the model when it loads (checkFeaturizerCompatibility).
    return (await this.parse(
      res,
      modelManifestSchema,
      runnerPaths.manifest(sha256),
    )) as unknown as ModelManifest;
  }

  /** The model file; throws MODEL_HASH_MISMATCH unless its sha-256 is `sha256`. */
  async fetchModel(sha256: string): Promise<Uint8Array> {
    const res = await this.send(runnerPaths.model(sha256), { method: 'GET' });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const actual = sha256Hex(bytes);
    if (actual !== sha256) {
      throw new RunnerError(
        'MODEL_HASH_MISMATCH',
        `The model file served for ${sha256} hashes to ${actual}: the download was corrupted or the registry is inconsistent.`,
        { expected: sha256, actual },
      );
    }
    return bytes;
  }

  private async post<T>(path: string, body: unknown, schema: Schema<T>, extraMs = 0): Promise<T> {
    const res = await this.send(
      path,
      {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      },
      extraMs,
    );
    return this.parse(res, schema, path);
  }

  private async parse<T>(res: Response, schema: Schema<T>, path: string): Promise<T> {
    const json: unknown = await res.json().catch(() => undefined);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new RunnerError(
        'PROTOCOL_ERROR',
        `The server's answer to ${path} does not follow /runner/v1 (${parsed.error.issues[0]?.message ?? 'not JSON'}): check that the API URL points at a Roster API of a matching version.`,
        { path },
      );
    }
    return parsed.data;
  }

  private async send(path: string, init: RequestInit, extraMs = 0): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        ...init,
        headers: { ...init.headers, authorization: `Bearer ${this.options.poolToken}` },
        signal: AbortSignal.timeout(this.timeoutMs + extraMs),
      });
    } catch (cause) {
      throw new RunnerError(
        'REQUEST_FAILED',
        `Could not reach ${this.baseUrl}${path} (${(cause as Error).message}): check the API URL and the network.`,
        { path },
        { cause },
      );
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    let message = text.slice(0, 300);
    try {
      message = protocolErrorBodySchema.parse(JSON.parse(text)).error.message;
    } catch {
      // Not a protocol error body: keep the raw text.
    }
    const details = { path, status: res.status };
    if (res.status === 401 || res.status === 403) {
      throw new RunnerError(
        'UNAUTHORIZED',
        `The server refused the runner (${res.status} ${message}): check the pool token, or register again if the runner id expired.`,
        details,
      );
    }
    throw new RunnerError(
      res.status >= 500 ? 'SERVER_ERROR' : 'PROTOCOL_ERROR',
      `${path} failed with ${res.status}: ${message}`,
      details,
    );
  }
}
