// Test harness for plugin authors: runs an action directly in Node (no sandbox) with a real
// ctx, so a vitest test can exercise it against a local server. Not a security boundary:
// the plugin host enforces the same rules for real.
import { isIP } from 'node:net';
import { type CapabilityName, declaredCapabilityNames } from './capabilities.js';
import type {
  HttpRequestInit,
  HttpResponse,
  KvStore,
  LogLevel,
  SmtpClient,
  SqlClient,
} from './context.js';
import type { Connector } from './define.js';
import { PluginSdkError } from './errors.js';

export interface HarnessLogEntry {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields?: Record<string, unknown>;
}

export interface HarnessRequest {
  readonly method: string;
  readonly url: string;
  readonly sentTo: string;
}

export interface RunActionOptions {
  /** Connection values, validated against the connector's connection schema. */
  readonly connection?: Record<string, unknown>;
  /**
   * Redirects a declared host to a local base URL, e.g.
   * `{ 'api.example.com': 'http://127.0.0.1:4010' }`, so the plugin keeps its real URLs.
   */
  readonly hosts?: Readonly<Record<string, string>>;
  /** Allow requests to loopback addresses named directly in a URL. Default false. */
  readonly allowLoopback?: boolean;
  /** Scopes the installation grants. Default: every declared capability. */
  readonly grantedScopes?: readonly CapabilityName[];
  /** Default: an in-memory store. */
  readonly kv?: KvStore;
  readonly sql?: SqlClient;
  readonly smtp?: SmtpClient;
  /** Default `test-run/step/1`. */
  readonly idempotencyKey?: string;
  /** Default 10 000 ms. */
  readonly timeoutMs?: number;
}

export interface RunActionResult<O> {
  readonly output: O;
  readonly logs: HarnessLogEntry[];
  readonly requests: HarnessRequest[];
}

export function memoryKv(): KvStore {
  const data = new Map<string, string>();
  return {
    get: async <T>(key: string) => {
      const raw = data.get(key);
      return raw === undefined ? null : (JSON.parse(raw) as T);
    },
    set: async (key, value) => {
      data.set(key, JSON.stringify(value));
    },
    delete: async (key) => {
      data.delete(key);
    },
    list: async (prefix = '') => [...data.keys()].filter((k) => k.startsWith(prefix)).sort(),
  };
}

function isLoopbackName(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1' || bare === '0:0:0:0:0:0:0:1';
}

function forbidden(capability: CapabilityName): never {
  throw new PluginSdkError(
    'FORBIDDEN',
    `Capability "${capability}" is not granted to this action: declare it in capabilities and uses, and grant the scope.`,
    { capability },
  );
}

function plainResponse(
  status: number,
  headers: Record<string, string>,
  body: string,
): HttpResponse {
  return {
    status,
    headers,
    text: () => body,
    json: <T>() => JSON.parse(body) as T,
  };
}

/** Host names of the connection's URL fields (unparseable or empty values add nothing). */
export function hostsFromConnection(
  fields: readonly string[],
  secrets: Readonly<Record<string, unknown>>,
): string[] {
  const hosts: string[] = [];
  for (const field of fields) {
    const value = secrets[field];
    if (typeof value !== 'string' || value === '') continue;
    try {
      const url = new URL(value);
      if (url.protocol === 'http:' || url.protocol === 'https:') hosts.push(url.hostname);
    } catch {
      // Not a URL: the connection schema should have caught it; allow nothing.
    }
  }
  return hosts;
}

function zodIssues(error: unknown): unknown {
  return (error as { issues?: unknown }).issues ?? String(error);
}

export async function runAction<O = unknown>(
  connector: Connector,
  actionId: string,
  input: unknown,
  options: RunActionOptions = {},
): Promise<RunActionResult<O>> {
  const action = Object.hasOwn(connector.actions, actionId)
    ? connector.actions[actionId]
    : undefined;
  if (!action) {
    throw new PluginSdkError(
      'UNKNOWN_ACTION',
      `Connector "${connector.id}" has no action "${actionId}"; it has: ${Object.keys(connector.actions).join(', ')}.`,
    );
  }
  let secrets: Record<string, string> = {};
  if (connector.connection) {
    const parsed = connector.connection.schema.safeParse(options.connection ?? {});
    if (!parsed.success) {
      throw new PluginSdkError(
        'INPUT_INVALID',
        'The connection values do not match the connection schema.',
        {
          issues: zodIssues(parsed.error),
        },
      );
    }
    secrets = parsed.data as Record<string, string>;
  }
  const parsedInput = action.input.safeParse(input);
  if (!parsedInput.success) {
    throw new PluginSdkError(
      'INPUT_INVALID',
      `Input for "${actionId}" does not match its schema.`,
      {
        issues: zodIssues(parsedInput.error),
      },
    );
  }

  const granted = new Set(options.grantedScopes ?? declaredCapabilityNames(connector.capabilities));
  const uses = new Set(action.uses ?? []);
  const allowed = (name: CapabilityName) =>
    uses.has(name) && granted.has(name) && connector.capabilities[name] !== undefined;
  const declaredHosts = new Set([
    ...(connector.capabilities.http?.hosts ?? []),
    ...hostsFromConnection(connector.capabilities.http?.hostsFromConnection ?? [], secrets),
  ]);
  const logs: HarnessLogEntry[] = [];
  const requests: HarnessRequest[] = [];
  const controller = new AbortController();
  const timeoutMs = options.timeoutMs ?? 10_000;
  const timer = setTimeout(() => controller.abort(new Error('timeout')), timeoutMs);
  const kv = options.kv ?? memoryKv();

  const fetchImpl = async (url: string, init: HttpRequestInit = {}): Promise<HttpResponse> => {
    if (!allowed('http')) forbidden('http');
    let target: URL;
    try {
      target = new URL(url);
    } catch (error) {
      throw new PluginSdkError(
        'EGRESS_DENIED',
        `"${url}" is not an absolute URL.`,
        {},
        { cause: error },
      );
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new PluginSdkError(
        'EGRESS_DENIED',
        `Only http and https URLs are allowed, not ${target.protocol}.`,
      );
    }
    if (!declaredHosts.has(target.hostname)) {
      throw new PluginSdkError(
        'EGRESS_DENIED',
        `Host "${target.hostname}" is not declared: add it to capabilities.http.hosts.`,
        { host: target.hostname },
      );
    }
    const mapped = options.hosts?.[target.hostname];
    const sendTo = mapped
      ? new URL(`${target.pathname}${target.search}`, mapped.endsWith('/') ? mapped : `${mapped}/`)
      : target;
    if (isLoopbackName(sendTo.hostname) && !options.allowLoopback && !mapped) {
      throw new PluginSdkError(
        'EGRESS_DENIED',
        `"${sendTo.hostname}" is a loopback address: pass allowLoopback: true (tests only).`,
      );
    }
    const headers: Record<string, string> = { ...init.headers };
    let body = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers['content-type'] = 'application/json';
    }
    const method = (init.method ?? 'GET').toUpperCase();
    requests.push({ method, url, sentTo: sendTo.toString() });
    const signal = init.timeoutMs
      ? AbortSignal.any([controller.signal, AbortSignal.timeout(init.timeoutMs)])
      : controller.signal;
    let response: Response;
    try {
      response = await fetch(sendTo, { method, headers, body, redirect: 'manual', signal });
    } catch (error) {
      throw new PluginSdkError(
        'HTTP_FAILED',
        `Request to ${url} failed: ${String(error)}`,
        {},
        { cause: error },
      );
    }
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      responseHeaders[name] = value;
    });
    return plainResponse(response.status, responseHeaders, await response.text());
  };

  const log =
    (level: LogLevel) =>
    (message: string, fields?: Record<string, unknown>): void => {
      logs.push(fields === undefined ? { level, message } : { level, message, fields });
    };
  // Each client rejects with FORBIDDEN at call time when the scope is not granted, as the host does.
  const guarded = <T extends object>(name: CapabilityName, client: T | undefined): T =>
    new Proxy({} as T, {
      get:
        (_target, method) =>
        async (...args: unknown[]) => {
          if (!allowed(name)) forbidden(name);
          const fn = client ? Reflect.get(client, method) : undefined;
          if (typeof fn !== 'function') {
            throw new PluginSdkError(
              'FORBIDDEN',
              `No ${name} client was passed to runAction: pass options.${name}.`,
            );
          }
          return fn.apply(client, args);
        },
    });
  const clients: Record<CapabilityName, object> = {
    http: { fetch: fetchImpl },
    kv: guarded('kv', kv),
    sql: guarded('sql', options.sql),
    smtp: guarded('smtp', options.smtp),
  };
  const ctx: Record<string, unknown> = {
    secrets,
    idempotencyKey: options.idempotencyKey ?? 'test-run/step/1',
    signal: controller.signal,
    log: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
  };
  // Only the capabilities the action uses appear on ctx.
  for (const name of uses) ctx[name] = clients[name];

  try {
    const raced = await Promise.race([
      Promise.resolve().then(() => action.run(ctx as never, parsedInput.data)),
      new Promise<never>((_, reject) => {
        controller.signal.addEventListener('abort', () =>
          reject(new PluginSdkError('TIMEOUT', `Action "${actionId}" ran past ${timeoutMs} ms.`)),
        );
      }),
    ]);
    const parsedOutput = action.output.safeParse(raced);
    if (!parsedOutput.success) {
      throw new PluginSdkError(
        'OUTPUT_INVALID',
        `Output of "${actionId}" does not match its schema.`,
        {
          issues: zodIssues(parsedOutput.error),
        },
      );
    }
    return { output: parsedOutput.data as O, logs, requests };
  } finally {
    clearTimeout(timer);
  }
}
