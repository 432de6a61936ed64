import { type Pool, withTenant } from '@roster/db';
import { recordChange } from './change-events.js';
import { EngineError } from './errors.js';
import { generateSigningSecret } from './webhook-signature.js';

/** The graphile-worker task that POSTs one callback delivery (payload `{t, d}`: ids only). */
export const CALLBACK_TASK = 'roster_callback_deliver';

/**
 * Waits before attempts 2..10 of a callback: 10 attempts over about 14 hours, at most 6 hours
 * apart. A 2xx answer ends the delivery; a refused address ends it at once.
 */
export const CALLBACK_BACKOFF_MS: readonly number[] = [
  10_000,
  60_000,
  5 * 60_000,
  15 * 60_000,
  30 * 60_000,
  3_600_000,
  2 * 3_600_000,
  4 * 3_600_000,
  6 * 3_600_000,
];

export interface CallbackJob {
  t: string;
  d: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseCallbackJob(payload: unknown): CallbackJob {
  const p = payload as Partial<CallbackJob> | null;
  if (
    !p ||
    typeof p.t !== 'string' ||
    typeof p.d !== 'string' ||
    !UUID.test(p.t) ||
    !UUID.test(p.d)
  ) {
    throw new EngineError(
      'BAD_USER_INPUT',
      `Not a ${CALLBACK_TASK} payload: expected {t, d} uuids.`,
      {
        payload,
      },
    );
  }
  return { t: p.t, d: p.d };
}

export interface WorkflowCallbackView {
  workflowId: string;
  url: string;
  createdAt: Date;
  updatedAt: Date;
}

/** An absolute http(s) URL without credentials, at most 2,048 characters. */
export function checkCallbackUrl(url: string, field = 'input.url'): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EngineError(
      'BAD_USER_INPUT',
      `${field} must be an absolute URL such as https://example.com/roster.`,
      {
        field,
      },
    );
  }
  if (url.length > 2048 || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    throw new EngineError(
      'BAD_USER_INPUT',
      `${field} must be an http(s) URL of at most 2,048 characters.`,
      {
        field,
      },
    );
  }
  if (parsed.username || parsed.password) {
    throw new EngineError(
      'BAD_USER_INPUT',
      `${field} must not carry credentials: verify the signature instead.`,
      {
        field,
      },
    );
  }
  return parsed.toString();
}

/**
 * Sets where runs of a workflow report when they end. The signing secret is created with the
 * first callback (or again when `rotateSecret`) and returned only then; otherwise `secret` is null.
 */
export async function setWorkflowCallback(
  pool: Pool,
  tenantId: string,
  input: { workflowId: string; url: string; rotateSecret?: boolean; createdBy: string | null },
): Promise<{ callback: WorkflowCallbackView; secret: string | null }> {
  const url = checkCallbackUrl(input.url);
  const fresh = generateSigningSecret();
  const row = await withTenant(pool, tenantId, async ({ client }) => {
    const { rows: previous } = await client.query<{ url: string }>(
      'SELECT url FROM workflow_callbacks WHERE tenant_id = $1 AND workflow_id = $2 FOR UPDATE',
      [tenantId, input.workflowId],
    );
    const before = previous[0];
    const { rows } = await client.query<WorkflowCallbackView & { created: boolean }>(
      `INSERT INTO workflow_callbacks (tenant_id, workflow_id, url, secret, created_by)
       SELECT $1, w.id, $3, $4, $5 FROM workflows w WHERE w.tenant_id = $1 AND w.id = $2
       ON CONFLICT (tenant_id, workflow_id) DO UPDATE SET url = excluded.url, updated_at = now(),
         secret = CASE WHEN $6 THEN excluded.secret ELSE workflow_callbacks.secret END
       RETURNING workflow_id AS "workflowId", url, created_at AS "createdAt", updated_at AS "updatedAt",
                 (xmax = 0) AS created`,
      [tenantId, input.workflowId, url, fresh, input.createdBy, input.rotateSecret === true],
    );
    const set = rows[0];
    if (set) {
      // The URL and whether the secret changed; never the secret.
      await recordChange(client, tenantId, {
        action: 'workflowCallback.set',
        subject: { type: 'workflow', id: input.workflowId },
        ...(before ? { before: { url: before.url } } : {}),
        after: { url: set.url, secretIssued: set.created || input.rotateSecret === true },
      });
    }
    return set;
  });
  if (!row) {
    throw new EngineError(
      'NOT_FOUND',
      `Workflow ${input.workflowId} does not exist in this tenant.`,
      {
        workflowId: input.workflowId,
      },
    );
  }
  const { created, ...callback } = row;
  return { callback, secret: created || input.rotateSecret === true ? fresh : null };
}

export async function removeWorkflowCallback(
  pool: Pool,
  tenantId: string,
  workflowId: string,
): Promise<boolean> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<{ url: string }>(
      'DELETE FROM workflow_callbacks WHERE tenant_id = $1 AND workflow_id = $2 RETURNING url',
      [tenantId, workflowId],
    );
    const removed = rows[0];
    if (removed) {
      await recordChange(client, tenantId, {
        action: 'workflowCallback.removed',
        subject: { type: 'workflow', id: workflowId },
        before: { url: removed.url },
      });
    }
    return removed !== undefined;
  });
}

export async function getWorkflowCallback(
  pool: Pool,
  tenantId: string,
  workflowId: string,
): Promise<WorkflowCallbackView | null> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<WorkflowCallbackView>(
      `SELECT workflow_id AS "workflowId", url, created_at AS "createdAt", updated_at AS "updatedAt"
         FROM workflow_callbacks WHERE tenant_id = $1 AND workflow_id = $2`,
      [tenantId, workflowId],
    );
    return rows[0] ?? null;
  });
}

export interface CallbackAttemptView {
  attempt: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
}

export interface CallbackDeliveryView {
  id: string;
  runId: string;
  eventType: string;
  url: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: CallbackAttemptView[];
  nextAttemptAt: Date | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

/** The delivery log of one run: each event with every attempt, oldest first. */
export async function listCallbackDeliveries(
  pool: Pool,
  tenantId: string,
  runId: string,
): Promise<CallbackDeliveryView[]> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<CallbackDeliveryView>(
      `SELECT d.id, d.run_id AS "runId", d.event_type AS "eventType", d.url, d.status,
              d.next_attempt_at AS "nextAttemptAt", d.created_at AS "createdAt", d.delivered_at AS "deliveredAt",
              coalesce((SELECT jsonb_agg(jsonb_build_object('attempt', a.attempt, 'startedAt', a.started_at,
                        'durationMs', a.duration_ms, 'statusCode', a.status_code, 'error', a.error) ORDER BY a.attempt)
                   FROM callback_attempts a WHERE a.tenant_id = d.tenant_id AND a.delivery_id = d.id), '[]'::jsonb) AS attempts
         FROM callback_deliveries d WHERE d.tenant_id = $1 AND d.run_id = $2
        ORDER BY d.created_at, d.id`,
      [tenantId, runId],
    );
    return rows.map((row) => ({
      ...row,
      attempts: row.attempts.map((a) => ({ ...a, startedAt: new Date(a.startedAt) })),
    }));
  });
}

export interface PendingDelivery {
  id: string;
  url: string;
  /** The JSON body, the same text on every attempt. */
  body: string;
  /** The workflow callback's current secret; null when the callback was removed since. */
  secret: string | null;
  /** Attempts made so far. */
  attempts: number;
}

/** A delivery still pending, with what its next attempt needs; null when done or unknown. */
export async function pendingDelivery(
  pool: Pool,
  tenantId: string,
  deliveryId: string,
): Promise<PendingDelivery | null> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<{
      id: string;
      url: string;
      payload: unknown;
      secret: string | null;
      attempts: number;
    }>(
      `SELECT d.id, d.url, d.payload, c.secret, d.attempts FROM callback_deliveries d
         LEFT JOIN workflow_callbacks c ON c.tenant_id = d.tenant_id AND c.workflow_id = d.workflow_id
        WHERE d.tenant_id = $1 AND d.id = $2 AND d.status = 'pending'`,
      [tenantId, deliveryId],
    );
    const row = rows[0];
    return row ? { ...row, body: JSON.stringify(row.payload) } : null;
  });
}

export interface CallbackAttemptOutcome {
  attempt: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  /** delivered: 2xx; retry: try again at `nextAttemptAt`; failed: give up. */
  outcome: 'delivered' | 'retry' | 'failed';
  nextAttemptAt?: Date;
}

/** Logs one attempt and moves the delivery on; a retry enqueues the next attempt in the same commit. */
export async function recordCallbackAttempt(
  pool: Pool,
  tenantId: string,
  deliveryId: string,
  result: CallbackAttemptOutcome,
): Promise<void> {
  await withTenant(pool, tenantId, async ({ client }) => {
    await client.query(
      `INSERT INTO callback_attempts (tenant_id, delivery_id, attempt, started_at, duration_ms, status_code, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [
        tenantId,
        deliveryId,
        result.attempt,
        result.startedAt,
        Math.round(result.durationMs),
        result.statusCode,
        result.error,
      ],
    );
    const status = result.outcome === 'retry' ? 'pending' : result.outcome;
    await client.query(
      `UPDATE callback_deliveries SET attempts = $3, status = $4, last_status_code = $5, last_error = $6,
              next_attempt_at = $7, delivered_at = CASE WHEN $4 = 'delivered' THEN now() END, updated_at = now()
        WHERE tenant_id = $1 AND id = $2`,
      [
        tenantId,
        deliveryId,
        result.attempt,
        status,
        result.statusCode,
        result.error,
        result.outcome === 'retry' ? (result.nextAttemptAt ?? null) : null,
      ],
    );
    if (result.outcome === 'retry') {
      await client.query(
        `SELECT graphile_worker.add_job($1, $2::json, run_at => $3, max_attempts => 5, job_key => $4)`,
        [
          CALLBACK_TASK,
          JSON.stringify({ t: tenantId, d: deliveryId }),
          result.nextAttemptAt ?? new Date(),
          `roster:callback:${deliveryId}`,
        ],
      );
    }
  });
}
