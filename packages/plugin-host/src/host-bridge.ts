import {
  type CapabilityName,
  hostsFromConnection,
  type PluginManifest,
  type SmtpMessage,
  type SqlParam,
} from '@roster/plugin-sdk';
import { PluginHostError } from './errors.js';
import { hostCallAbility, mayCall } from './grant-ability.js';
import type { HostHttpRequest, HttpEgress } from './http-egress.js';
import type { ConnectionResilience } from './resilience.js';

/** Who is calling, passed to every capability implementation (for audit and tenancy). */
export interface HostCallInfo {
  readonly pluginId: string;
  readonly pluginVersion: string;
  readonly actionId: string;
  readonly idempotencyKey: string;
  readonly installationId?: string;
  readonly connectionId?: string;
}

export interface SmtpCapability {
  send(
    message: SmtpMessage,
    call: HostCallInfo,
  ): Promise<{ messageId: string; accepted: string[] }>;
}
export interface SqlCapability {
  /** `params` are bound by the implementation; `sql` never contains caller values. */
  query(
    sql: string,
    params: readonly SqlParam[],
    call: HostCallInfo,
  ): Promise<{ rows: Record<string, unknown>[]; rowCount: number }>;
}
export interface KvCapability {
  get(key: string, call: HostCallInfo): Promise<unknown>;
  set(
    key: string,
    value: unknown,
    ttlSeconds: number | undefined,
    call: HostCallInfo,
  ): Promise<void>;
  delete(key: string, call: HostCallInfo): Promise<void>;
  list(prefix: string, call: HostCallInfo): Promise<string[]>;
}

/** What the host process provides; a capability left out is refused like an ungranted one. */
export interface HostCapabilities {
  readonly http?: HttpEgress;
  readonly smtp?: SmtpCapability;
  readonly sql?: SqlCapability;
  readonly kv?: KvCapability;
  /** Wraps http calls per connection (circuit breaker + rate limit). */
  readonly resilience?: ConnectionResilience;
}

/** The installation's side of one invocation: what was declared and what was granted. */
export interface InvocationGrant {
  readonly manifest: PluginManifest;
  readonly actionId: string;
  readonly grantedScopes: readonly CapabilityName[];
  readonly idempotencyKey: string;
  readonly installationId?: string;
  readonly connectionId?: string;
  /** The decrypted connection: its URL fields named in `http.hostsFromConnection` widen egress. */
  readonly secrets?: Readonly<Record<string, string>>;
}

export type HostDispatch = (method: string, args: unknown, signal: AbortSignal) => Promise<unknown>;

type Handler = (
  args: Record<string, unknown>,
  call: HostCallInfo,
  signal: AbortSignal,
) => Promise<unknown>;

function argString(args: Record<string, unknown>, key: string, max = 64 * 1024): string {
  const value = args[key];
  if (typeof value !== 'string' || value.length > max) {
    throw new PluginHostError(
      'FORBIDDEN',
      `Host call argument "${key}" must be a string of at most ${max} characters.`,
    );
  }
  return value;
}

function sqlParams(value: unknown): SqlParam[] {
  const params = value ?? [];
  if (
    !Array.isArray(params) ||
    params.some((p) => p !== null && !['string', 'number', 'boolean'].includes(typeof p))
  ) {
    throw new PluginHostError(
      'FORBIDDEN',
      'sql.query params must be an array of strings, numbers, booleans or null.',
    );
  }
  return params as SqlParam[];
}

function stringRecord(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new PluginHostError('FORBIDDEN', 'http.fetch headers must be an object of strings.');
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

/**
 * Builds the one function through which sandboxed code reaches anything. Method names are
 * looked up in a Map (no prototype tricks) and every call is checked against what the plugin
 * declared, what the action uses and what the installation granted.
 */
export function createHostDispatch(
  capabilities: HostCapabilities,
  grant: InvocationGrant,
): HostDispatch {
  const { manifest, actionId } = grant;
  const action = Object.hasOwn(manifest.actions, actionId) ? manifest.actions[actionId] : undefined;
  // Every call is checked by CASL against the installation's granted scopes (deny by default).
  const ability = hostCallAbility(grant.grantedScopes);
  const uses = new Set(action?.uses ?? []);
  const call: HostCallInfo = {
    pluginId: manifest.id,
    pluginVersion: manifest.version,
    actionId,
    idempotencyKey: grant.idempotencyKey,
    ...(grant.installationId === undefined ? {} : { installationId: grant.installationId }),
    ...(grant.connectionId === undefined ? {} : { connectionId: grant.connectionId }),
  };
  const declaredHosts = [
    ...(manifest.capabilities.http?.hosts ?? []),
    ...hostsFromConnection(
      manifest.capabilities.http?.hostsFromConnection ?? [],
      grant.secrets ?? {},
    ),
  ];

  const implementation = <T>(name: CapabilityName, value: T | undefined): T => {
    if (value === undefined) {
      throw new PluginHostError('FORBIDDEN', `This plugin host provides no "${name}" capability.`, {
        capability: name,
      });
    }
    return value;
  };

  const handlers = new Map<string, [CapabilityName, Handler]>([
    [
      'http.fetch',
      [
        'http',
        (args, _call, signal) => {
          const http = implementation('http', capabilities.http);
          const request: HostHttpRequest = {
            url: argString(args, 'url', 8 * 1024),
            method: typeof args.method === 'string' ? args.method : 'GET',
            headers: stringRecord(args.headers),
            ...(typeof args.body === 'string' ? { body: args.body } : {}),
            ...(typeof args.timeoutMs === 'number' ? { timeoutMs: args.timeoutMs } : {}),
          };
          const run = () => http(request, declaredHosts, signal);
          const resilience = capabilities.resilience;
          return resilience ? resilience.execute(grant.connectionId ?? manifest.id, run) : run();
        },
      ],
    ],
    [
      'smtp.send',
      [
        'smtp',
        (args, c) => implementation('smtp', capabilities.smtp).send(args.message as SmtpMessage, c),
      ],
    ],
    [
      'sql.query',
      [
        'sql',
        (args, c) => {
          const sql = argString(args, 'sql');
          // One statement only: values must travel as params, never inside the text.
          if (/;\s*\S/.test(sql)) {
            throw new PluginHostError(
              'FORBIDDEN',
              'sql.query takes one statement; pass values as $1, $2 params.',
            );
          }
          return implementation('sql', capabilities.sql).query(sql, sqlParams(args.params), c);
        },
      ],
    ],
    [
      'kv.get',
      [
        'kv',
        (args, c) => implementation('kv', capabilities.kv).get(argString(args, 'key', 512), c),
      ],
    ],
    [
      'kv.set',
      [
        'kv',
        (args, c) =>
          implementation('kv', capabilities.kv).set(
            argString(args, 'key', 512),
            args.value,
            typeof args.ttlSeconds === 'number' ? args.ttlSeconds : undefined,
            c,
          ),
      ],
    ],
    [
      'kv.delete',
      [
        'kv',
        (args, c) => implementation('kv', capabilities.kv).delete(argString(args, 'key', 512), c),
      ],
    ],
    [
      'kv.list',
      [
        'kv',
        (args, c) =>
          implementation('kv', capabilities.kv).list(
            typeof args.prefix === 'string' ? args.prefix : '',
            c,
          ),
      ],
    ],
  ]);

  return async (method, args, signal) => {
    const entry = handlers.get(method);
    if (!entry) {
      throw new PluginHostError('FORBIDDEN', `"${method}" is not a host API.`, { method });
    }
    const [capability, handler] = entry;
    if (manifest.capabilities[capability] === undefined || !uses.has(capability)) {
      throw new PluginHostError(
        'FORBIDDEN',
        `Action "${actionId}" did not declare "${capability}": add it to the connector's capabilities and the action's uses.`,
        { capability, method },
      );
    }
    if (!mayCall(ability, capability, method)) {
      throw new PluginHostError(
        'FORBIDDEN',
        `The installation has not granted the "${capability}" scope to ${manifest.id}: a tenant admin can grant it.`,
        { capability, method },
      );
    }
    const record =
      typeof args === 'object' && args !== null ? (args as Record<string, unknown>) : {};
    return handler(record, call, signal);
  };
}
