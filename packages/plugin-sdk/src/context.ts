import type { CapabilityName } from './capabilities.js';

/**
 * The `ctx` an action receives. Everything here is plain data or plain functions: the same
 * types are implemented inside the QuickJS sandbox (no Node objects, no URL, no Buffer) and
 * by the Node test harness.
 */
export interface HttpRequestInit {
  /** Default `GET`. */
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A UTF-8 request body. */
  readonly body?: string;
  /** Serialised as the body with `content-type: application/json`; wins over `body`. */
  readonly json?: unknown;
  /** Lower than the host's cap to fail faster; the host's cap always applies. */
  readonly timeoutMs?: number;
}

export interface HttpResponse {
  readonly status: number;
  /** Lower-cased names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body decoded as UTF-8. Already fully read: no streaming. */
  text(): string;
  /** Throws when the body is not JSON. */
  json<T = unknown>(): T;
}

export interface HttpClient {
  /** `url` must be absolute, http(s), with a host declared in `capabilities.http.hosts`. Redirects are not followed. */
  fetch(url: string, init?: HttpRequestInit): Promise<HttpResponse>;
}

export interface SmtpMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly cc?: readonly string[];
  readonly subject: string;
  readonly text?: string;
  readonly html?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface SmtpClient {
  send(message: SmtpMessage): Promise<{ messageId: string; accepted: string[] }>;
}

export type SqlParam = string | number | boolean | null;

export interface SqlClient {
  /** Parameterised only: values go in `params` and are referenced as `$1`, `$2`, ... */
  query<Row = Record<string, unknown>>(
    sql: string,
    params?: readonly SqlParam[],
  ): Promise<{ rows: Row[]; rowCount: number }>;
}

export interface KvStore {
  get<T = unknown>(key: string): Promise<T | null>;
  set(key: string, value: unknown, options?: { ttlSeconds?: number }): Promise<void>;
  delete(key: string): Promise<void>;
  list(prefix?: string): Promise<string[]>;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
}

/** Connection secrets as the tenant entered them (decrypted by the host). */
export type ConnectionSecrets = Readonly<Record<string, string>>;

interface CapabilityClients {
  http: HttpClient;
  smtp: SmtpClient;
  sql: SqlClient;
  kv: KvStore;
}

export interface BaseActionContext {
  readonly secrets: ConnectionSecrets;
  /** Stable across retries of the same step attempt (`run/step/attempt`): pass it to APIs that dedupe. */
  readonly idempotencyKey: string;
  readonly signal: AbortSignalLike;
  readonly log: Logger;
}

/** Only the capabilities an action `uses` appear on its ctx. */
export type ActionContext<U extends CapabilityName = never> = BaseActionContext & {
  readonly [K in U]: CapabilityClients[K];
};
