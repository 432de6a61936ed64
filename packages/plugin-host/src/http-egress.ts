import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { createEgressPolicy, type EgressPolicy } from './egress-policy.js';
import { PluginHostError } from './errors.js';

/** Resolves a host name to addresses. Injected so tests never touch real DNS. */
export type Resolver = (hostname: string) => Promise<readonly string[]>;

/** Called with the exact address right before a socket is opened; throw to refuse. */
export type ConnectGuard = (target: { hostname: string; address: string; port: number }) => void;

export interface HttpEgressOptions {
  /** Default: blocks everything that is not public, with no allow-list. */
  readonly policy?: EgressPolicy;
  /** Default: the system resolver (all addresses). */
  readonly resolve?: Resolver;
  readonly connectGuard?: ConnectGuard;
  /** Default 5 MiB. */
  readonly maxResponseBytes?: number;
  /** Default 1 MiB. */
  readonly maxRequestBytes?: number;
  /** Default 10 000 ms; a plugin may ask for less, never more. */
  readonly timeoutMs?: number;
  /** Default `roster-plugin-host`. */
  readonly userAgent?: string;
}

export interface HostHttpRequest {
  readonly url: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs?: number;
}

export interface HostHttpResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export type HttpEgress = (
  request: HostHttpRequest,
  declaredHosts: readonly string[],
  signal?: AbortSignal,
) => Promise<HostHttpResponse>;

// Headers the host owns: the pinned connection decides Host, framing and proxying.
const DROPPED_HEADERS = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'expect',
]);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

function denied(message: string, details: Record<string, unknown>): PluginHostError {
  return new PluginHostError('EGRESS_DENIED', message, details);
}

function responseHeaders(response: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/**
 * An http(s) client for plugins: declared hosts only, every resolved address checked against
 * the egress policy, and the socket pinned to the checked address (no DNS rebinding between
 * check and connect; Host header and TLS SNI carry the name). Redirects are not followed.
 */
export function createHttpEgress(options: HttpEgressOptions = {}): HttpEgress {
  const policy = options.policy ?? createEgressPolicy();
  const resolve = options.resolve ?? systemResolver;
  const maxResponseBytes = options.maxResponseBytes ?? 5 * 1024 * 1024;
  const maxRequestBytes = options.maxRequestBytes ?? 1024 * 1024;
  const capMs = options.timeoutMs ?? 10_000;
  const userAgent = options.userAgent ?? 'roster-plugin-host';

  return async (request, declaredHosts, signal) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      throw denied(`"${request.url}" is not an absolute URL: pass https://host/path.`, {});
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw denied(`Only http and https are allowed, not "${url.protocol}".`, { url: request.url });
    }
    if (url.username || url.password) {
      throw denied('Credentials in the URL are not allowed: send them in a header.', {});
    }
    const hostname = url.hostname.toLowerCase();
    if (!declaredHosts.includes(hostname)) {
      throw denied(
        `Host "${hostname}" is not declared by this plugin: add it to capabilities.http.hosts and republish.`,
        { host: hostname },
      );
    }
    const method = (request.method ?? 'GET').toUpperCase();
    if (!METHODS.has(method)) throw denied(`HTTP method "${method}" is not allowed.`, { method });
    const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
    if (body && body.length > maxRequestBytes) {
      throw new PluginHostError('HTTP_FAILED', `Request body exceeds ${maxRequestBytes} bytes.`, {
        bytes: body.length,
      });
    }

    const bare = hostname.replace(/^\[|\]$/g, '');
    let addresses: readonly string[];
    if (isIP(bare) !== 0) {
      addresses = [bare];
    } else {
      try {
        addresses = await resolve(bare);
      } catch (error) {
        throw new PluginHostError(
          'HTTP_FAILED',
          `Could not resolve "${bare}".`,
          { host: bare },
          { cause: error },
        );
      }
    }
    if (addresses.length === 0)
      throw new PluginHostError('HTTP_FAILED', `"${bare}" has no addresses.`, {});
    // Strict: one blocked answer refuses the whole name (a mixed answer is a rebinding smell).
    for (const address of addresses) {
      const verdict = policy.checkAddress(bare, address);
      if (!verdict.allowed) {
        throw denied(
          `Refused ${bare} -> ${address}: ${verdict.reason}. An operator can allow it in the plugin host's egress allow-list.`,
          { host: bare, address, reason: verdict.reason },
        );
      }
    }
    const address = addresses[0]!;
    const https = url.protocol === 'https:';
    const port = url.port ? Number(url.port) : https ? 443 : 80;
    options.connectGuard?.({ hostname: bare, address, port });

    const headers: Record<string, string> = { 'user-agent': userAgent };
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      if (!DROPPED_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = String(value);
    }
    headers.host = url.port ? `${url.hostname}:${url.port}` : url.hostname;
    if (body) headers['content-length'] = String(body.length);
    const timeoutMs = Math.min(
      capMs,
      request.timeoutMs && request.timeoutMs > 0 ? request.timeoutMs : capMs,
    );

    return new Promise<HostHttpResponse>((resolvePromise, reject) => {
      let settled = false;
      const finish = (error: PluginHostError | undefined, response?: HostHttpResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error) {
          req.destroy();
          reject(error);
        } else resolvePromise(response!);
      };
      const onAbort = () =>
        finish(
          new PluginHostError(
            'HTTP_TIMEOUT',
            'The invocation ended before the response arrived.',
            {},
          ),
        );
      const common = {
        // Connect to the checked address itself: nothing resolves the name again.
        host: address,
        family: isIP(address),
        port,
        method,
        path: `${url.pathname}${url.search}`,
        headers,
        agent: false as const,
      };
      let req: ReturnType<typeof httpRequest>;
      try {
        req = https
          ? httpsRequest({ ...common, servername: isIP(bare) === 0 ? bare : undefined })
          : httpRequest(common);
      } catch (error) {
        throw new PluginHostError(
          'HTTP_FAILED',
          `Invalid request: ${String(error)}`,
          {},
          { cause: error },
        );
      }
      const timer = setTimeout(
        () =>
          finish(
            new PluginHostError(
              'HTTP_TIMEOUT',
              `No complete response from ${bare} within ${timeoutMs} ms.`,
              {
                host: bare,
                timeoutMs,
              },
            ),
          ),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort);
      req.on('error', (error) =>
        finish(
          new PluginHostError('HTTP_FAILED', `Request to ${bare} failed: ${error.message}`, {
            host: bare,
          }),
        ),
      );
      req.on('response', (response) => {
        const declared = Number(response.headers['content-length']);
        if (declared > maxResponseBytes) {
          finish(tooLarge(bare, maxResponseBytes));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxResponseBytes) finish(tooLarge(bare, maxResponseBytes));
          else chunks.push(chunk);
        });
        response.on('error', (error) =>
          finish(
            new PluginHostError(
              'HTTP_FAILED',
              `Response from ${bare} failed: ${error.message}`,
              {},
            ),
          ),
        );
        response.on('end', () =>
          finish(undefined, {
            status: response.statusCode ?? 0,
            headers: responseHeaders(response),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      });
      req.end(body);
    });
  };
}

function tooLarge(host: string, max: number): PluginHostError {
  return new PluginHostError(
    'RESPONSE_TOO_LARGE',
    `The response from ${host} exceeds ${max} bytes.`,
    {
      host,
      maxResponseBytes: max,
    },
  );
}
