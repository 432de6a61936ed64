// The one place this plugin does network IO: Slack Web API calls through ctx.http.
import type { ActionContext } from '@roster/plugin-sdk';

const DEFAULT_BASE = 'https://slack.com/api';

interface SlackError extends Error {
  code?: string;
}

/**
 * POSTs a Web API method with a JSON body and the bearer token. Slack answers HTTP 200 with
 * `{ ok: false, error }` for most failures: those become errors with `code` = Slack's error.
 */
export async function callSlack<T>(
  ctx: ActionContext<'http'>,
  method: string,
  payload: Record<string, unknown>,
): Promise<T & { ok: true }> {
  const base = (ctx.secrets.baseUrl || DEFAULT_BASE).replace(/\/+$/, '');
  const response = await ctx.http.fetch(`${base}/${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.secrets.token}` },
    json: payload,
  });
  let body: { ok?: boolean; error?: string } & Record<string, unknown>;
  try {
    body = response.json();
  } catch {
    body = { ok: false, error: `http_${response.status}` };
  }
  if (body.ok !== true) {
    const error: SlackError = new Error(`Slack ${method} failed: ${body.error ?? 'unknown_error'}`);
    error.code = body.error ?? 'unknown_error';
    throw error;
  }
  return body as T & { ok: true };
}
