import type { Pool } from '@roster/db';
import {
  CALLBACK_BACKOFF_MS,
  type CallbackAttemptOutcome,
  type CallbackJob,
  pendingDelivery,
  recordCallbackAttempt,
  signWebhook,
} from '@roster/engine';
import {
  type ConnectGuard,
  createEgressPolicy,
  createHttpEgress,
  isPluginHostError,
  type Resolver,
} from '@roster/plugin-host';

/** How run callbacks leave the building. */
export interface CallbackEgressOptions {
  /**
   * Operator allow-list (ROSTER_EGRESS_ALLOW): CIDRs, addresses or host names that callbacks may
   * reach although they are loopback, private, link-local or metadata addresses. Default: none.
   */
  allow?: readonly string[];
  /** Default: the system resolver. Tests inject one so no real DNS is asked. */
  resolve?: Resolver;
  /** Called with the checked address right before a socket opens (tests fail on strays). */
  connectGuard?: ConnectGuard;
  /** Waits before attempts 2.. (the last entry repeats no further). Default CALLBACK_BACKOFF_MS. */
  backoffMs?: readonly number[];
  /** Per attempt. Default 10,000 ms. */
  timeoutMs?: number;
}

export type DeliveryOutcome = CallbackAttemptOutcome['outcome'] | 'skipped';

/**
 * Makes one attempt of a callback delivery: a Standard-Webhooks-signed POST (webhook-id = the
 * delivery id, the same body every attempt) through the plugin host's egress client, which
 * resolves the host, refuses non-public addresses unless allowed, and pins the socket to the
 * checked address. Every attempt is logged; failures retry with backoff; a refused address or
 * an exhausted schedule fails the delivery.
 */
export function createCallbackDeliverer(pool: Pool, options: CallbackEgressOptions = {}) {
  const backoff = options.backoffMs ?? CALLBACK_BACKOFF_MS;
  const egress = createHttpEgress({
    policy: createEgressPolicy({ allow: options.allow ?? [] }),
    ...(options.resolve ? { resolve: options.resolve } : {}),
    ...(options.connectGuard ? { connectGuard: options.connectGuard } : {}),
    timeoutMs: options.timeoutMs ?? 10_000,
    maxResponseBytes: 64 * 1024,
    userAgent: 'roster-callbacks',
  });

  return async (job: CallbackJob): Promise<DeliveryOutcome> => {
    const delivery = await pendingDelivery(pool, job.t, job.d);
    if (!delivery) return 'skipped';
    const attempt = delivery.attempts + 1;
    const startedAt = new Date();
    let statusCode: number | null = null;
    let error: string | null = null;
    let final = false;
    if (delivery.secret === null) {
      error = 'The workflow no longer has a callback; nothing was sent.';
      final = true;
    } else {
      try {
        const host = new URL(delivery.url).hostname.toLowerCase();
        const response = await egress(
          {
            url: delivery.url,
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              ...signWebhook(delivery.secret, delivery.id, delivery.body, startedAt),
            },
            body: delivery.body,
          },
          [host],
        );
        statusCode = response.status;
        if (statusCode < 200 || statusCode > 299)
          error = `The receiver answered HTTP ${statusCode}.`;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
        final = isPluginHostError(err) && err.code === 'EGRESS_DENIED';
      }
    }
    const wait = backoff[attempt - 1];
    const outcome: CallbackAttemptOutcome['outcome'] =
      error === null ? 'delivered' : final || wait === undefined ? 'failed' : 'retry';
    await recordCallbackAttempt(pool, job.t, job.d, {
      attempt,
      startedAt,
      durationMs: Date.now() - startedAt.getTime(),
      statusCode,
      error,
      outcome,
      ...(outcome === 'retry' ? { nextAttemptAt: new Date(Date.now() + (wait as number)) } : {}),
    });
    return outcome;
  };
}
