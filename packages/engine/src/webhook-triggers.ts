import { type Pool, withTenant } from '@roster/db';
import { recordChange } from './change-events.js';
import type { EngineOptions } from './engine-options.js';
import { EngineError } from './errors.js';
import { startRun } from './start-run.js';
import { generateSigningSecret, verifyWebhook } from './webhook-signature.js';

export interface WebhookTriggerView {
  id: string;
  workflowId: string;
  name: string;
  createdBy: string | null;
  createdAt: Date;
}

const COLUMNS = `id, workflow_id AS "workflowId", name, created_by AS "createdBy", created_at AS "createdAt"`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Standard Webhooks ids are short opaque strings; the run's idempotency key embeds it. */
const WEBHOOK_ID = /^[\x21-\x7e]{1,128}$/;
// Verified against when the trigger does not exist, so "unknown" costs what "bad signature" costs.
const DECOY_SECRET = generateSigningSecret();

/** Creates a trigger; the signing secret is returned here only (the API shows it once). */
export async function createWebhookTrigger(
  pool: Pool,
  tenantId: string,
  input: { workflowId: string; name: string; createdBy: string | null },
): Promise<{ trigger: WebhookTriggerView; secret: string }> {
  const secret = generateSigningSecret();
  try {
    const trigger = await withTenant(pool, tenantId, async ({ client }) => {
      const { rows } = await client.query<WebhookTriggerView>(
        `INSERT INTO webhook_triggers (tenant_id, workflow_id, name, secret, created_by)
         SELECT $1, w.id, $3, $4, $5 FROM workflows w WHERE w.tenant_id = $1 AND w.id = $2
         RETURNING ${COLUMNS}`,
        [tenantId, input.workflowId, input.name, secret, input.createdBy],
      );
      const row = rows[0];
      if (row) await recordChange(client, tenantId, triggerEvent('webhookTrigger.created', row));
      return row;
    });
    if (!trigger) {
      throw new EngineError(
        'NOT_FOUND',
        `Workflow ${input.workflowId} does not exist in this tenant.`,
        {
          workflowId: input.workflowId,
        },
      );
    }
    return { trigger, secret };
  } catch (err) {
    if ((err as { constraint?: string }).constraint === 'webhook_triggers_tenant_name_key') {
      throw new EngineError(
        'CONFLICT',
        `A webhook trigger named ${JSON.stringify(input.name)} exists already: pick another name.`,
        {
          field: 'input.name',
        },
      );
    }
    throw err;
  }
}

export async function getWebhookTrigger(
  pool: Pool,
  tenantId: string,
  triggerId: string,
): Promise<WebhookTriggerView | null> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<WebhookTriggerView>(
      `SELECT ${COLUMNS} FROM webhook_triggers WHERE tenant_id = $1 AND id = $2`,
      [tenantId, triggerId],
    );
    return rows[0] ?? null;
  });
}

/** Deletes a trigger (its seen webhook-ids go with it); false when there was none. */
export async function deleteWebhookTrigger(
  pool: Pool,
  tenantId: string,
  triggerId: string,
): Promise<boolean> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<WebhookTriggerView>(
      `DELETE FROM webhook_triggers WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [tenantId, triggerId],
    );
    const row = rows[0];
    if (row) await recordChange(client, tenantId, triggerEvent('webhookTrigger.deleted', row));
    return row !== undefined;
  });
}

/** The trigger as its audit event shows it: never its secret. */
function triggerEvent(
  action: 'webhookTrigger.created' | 'webhookTrigger.deleted',
  row: WebhookTriggerView,
) {
  const state = { workflowId: row.workflowId, name: row.name };
  return {
    action,
    subject: { type: 'webhookTrigger', id: row.id },
    ...(action === 'webhookTrigger.created' ? { after: state } : { before: state }),
  };
}

export interface InboundWebhook {
  /** From the path: the tenant's id. */
  tenantId: string;
  /** From the path: the trigger's id. */
  triggerId: string;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body, exactly as signed. */
  body: Buffer;
}

/**
 * Accepts one signed webhook: looks the trigger up under the path's tenant (RLS), verifies the
 * Standard Webhooks signature and timestamp, and starts a run with the JSON body as input. A
 * repeated `webhook-id` returns the first run and starts nothing. Throws NOT_FOUND (no such
 * trigger in that tenant), SIGNATURE_INVALID, BAD_USER_INPUT (body not a JSON object).
 */
export async function receiveWebhook(
  pool: Pool,
  message: InboundWebhook,
  options: EngineOptions = {},
): Promise<{ runId: string; created: boolean }> {
  const { tenantId, triggerId } = message;
  const found =
    UUID.test(tenantId) && UUID.test(triggerId)
      ? await withTenant(pool, tenantId, async ({ client }) => {
          const { rows } = await client.query<{ workflow_id: string; secret: string }>(
            'SELECT workflow_id, secret FROM webhook_triggers WHERE tenant_id = $1 AND id = $2',
            [tenantId, triggerId],
          );
          return rows[0];
        })
      : undefined;
  if (!found) {
    try {
      verifyWebhook(DECOY_SECRET, message.headers, message.body);
    } catch {
      // Expected: the decoy only evens out the time an unknown trigger takes.
    }
    throw new EngineError('NOT_FOUND', 'No such webhook trigger: check the URL.', {});
  }
  verifyWebhook(found.secret, message.headers, message.body);
  const webhookId = message.headers['webhook-id'] as string;
  if (!WEBHOOK_ID.test(webhookId)) {
    throw new EngineError(
      'BAD_USER_INPUT',
      'webhook-id must be 1 to 128 visible ASCII characters.',
      {
        field: 'webhook-id',
      },
    );
  }
  const seen = await withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<{ run_id: string }>(
      'SELECT run_id FROM webhook_deliveries_seen WHERE tenant_id = $1 AND trigger_id = $2 AND webhook_id = $3',
      [tenantId, triggerId, webhookId],
    );
    return rows[0]?.run_id;
  });
  if (seen) return { runId: seen, created: false };
  let input: unknown;
  try {
    input = JSON.parse(message.body.toString('utf8'));
  } catch {
    input = undefined;
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new EngineError(
      'BAD_USER_INPUT',
      "The webhook body must be a JSON object (it becomes the run's input).",
      {
        field: 'body',
      },
    );
  }
  // The idempotency key makes concurrent redeliveries of one webhook-id start one run.
  const started = await startRun(
    pool,
    tenantId,
    {
      workflowId: found.workflow_id,
      input,
      idempotencyKey: `webhook:${triggerId}:${webhookId}`,
      startedBy: { kind: 'webhook', id: triggerId },
    },
    options,
  );
  await withTenant(pool, tenantId, ({ client }) =>
    client.query(
      `INSERT INTO webhook_deliveries_seen (tenant_id, trigger_id, webhook_id, run_id)
       VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [tenantId, triggerId, webhookId, started.runId],
    ),
  );
  return { runId: started.runId, created: started.created };
}
