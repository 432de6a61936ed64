import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { EngineError } from './errors.js';

/** Standard Webhooks: a timestamp further than this from now is refused (replay window). */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

/** The headers of a signed Standard Webhooks message. */
export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** A new signing secret in the spec's form: `whsec_` + base64 of 32 random bytes. */
export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Signs `body` as message `id` sent at `at` (HMAC-SHA256 over `id.timestamp.body`, `v1,` prefix). */
export function signWebhook(
  secret: string,
  id: string,
  body: string,
  at: Date = new Date(),
): WebhookHeaders {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}

/**
 * Verifies a received message against `secret`: one of the `v1` signatures matches (constant-time)
 * and the timestamp is within WEBHOOK_TOLERANCE_SECONDS of now. Throws SIGNATURE_INVALID.
 */
export function verifyWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer | string,
): void {
  const flat: Record<string, string> = {};
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    const value = headers[name];
    if (typeof value === 'string') flat[name] = value;
  }
  try {
    new Webhook(secret).verify(body, flat, { jsonParse: false });
  } catch (cause) {
    throw new EngineError(
      'SIGNATURE_INVALID',
      "The webhook signature does not verify: sign `webhook-id.webhook-timestamp.body` with the trigger's secret (Standard Webhooks), and send it within 5 minutes of its timestamp.",
      { reason: cause instanceof Error ? cause.message : String(cause) },
    );
  }
}
