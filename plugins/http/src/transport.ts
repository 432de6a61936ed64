// The one place this plugin does network IO: everything goes through ctx.http.
import type { ActionContext, HttpResponse } from '@roster/plugin-sdk';

export interface RestCall {
  readonly method: string;
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly json?: unknown;
  readonly body?: string;
}

/** base + path + query (QuickJS has no URL class: joined by hand). */
export function urlFor(
  baseUrl: string,
  path: string,
  query: Readonly<Record<string, string>> = {},
) {
  const joined = `${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  const pairs = Object.keys(query).map(
    (key) => `${encodeURIComponent(key)}=${encodeURIComponent(query[key]!)}`,
  );
  return pairs.length === 0
    ? joined
    : `${joined}${joined.includes('?') ? '&' : '?'}${pairs.join('&')}`;
}

export function send(ctx: ActionContext<'http'>, call: RestCall): Promise<HttpResponse> {
  const headers: Record<string, string> = { ...call.headers };
  if (ctx.secrets.authorization) headers.authorization = ctx.secrets.authorization;
  return ctx.http.fetch(urlFor(ctx.secrets.baseUrl ?? '', call.path, call.query), {
    method: call.method,
    headers,
    ...(call.json === undefined ? {} : { json: call.json }),
    ...(call.body === undefined ? {} : { body: call.body }),
  });
}

/** JSON when the response says so, otherwise the text. */
export function bodyOf(response: HttpResponse): unknown {
  const type = response.headers['content-type'] ?? '';
  return /\bjson\b/i.test(type) ? response.json() : response.text();
}
