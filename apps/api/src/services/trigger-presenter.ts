import { type Pool, withTenant } from '@roster/db';
import { SCHEDULE_COLUMNS, type ScheduleView, type WebhookTriggerView } from '@roster/engine';
import { type PageRequest, toPage } from '../graphql/pagination.js';

/** A tenant's webhook triggers (never their secrets), oldest first, keyset-paged. */
export async function listWebhookTriggers(
  appPool: Pool,
  tenantId: string,
  filter: { workflowId: string | null },
  page: PageRequest,
) {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query<WebhookTriggerView>(
      `SELECT id, workflow_id AS "workflowId", name, created_by AS "createdBy", created_at AS "createdAt"
         FROM webhook_triggers
        WHERE tenant_id = $1 AND ($2::uuid IS NULL OR workflow_id = $2)
          AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4::uuid))
        ORDER BY created_at, id LIMIT $5`,
      [
        tenantId,
        filter.workflowId,
        page.after?.createdAt ?? null,
        page.after?.id ?? null,
        page.limit + 1,
      ],
    );
    return toPage(rows, page.limit);
  });
}

/** A tenant's schedules, oldest first, keyset-paged. */
export async function listSchedules(
  appPool: Pool,
  tenantId: string,
  filter: { workflowId: string | null },
  page: PageRequest,
) {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query<ScheduleView>(
      `SELECT ${SCHEDULE_COLUMNS} FROM schedules
        WHERE tenant_id = $1 AND ($2::uuid IS NULL OR workflow_id = $2)
          AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4::uuid))
        ORDER BY created_at, id LIMIT $5`,
      [
        tenantId,
        filter.workflowId,
        page.after?.createdAt ?? null,
        page.after?.id ?? null,
        page.limit + 1,
      ],
    );
    return toPage(rows, page.limit);
  });
}
