import { type Pool, withTenant } from '@roster/db';
import { SCHEDULE_COLUMNS, type ScheduleView, type WebhookTriggerView } from '@roster/engine';
import type { ApiKeyRow } from './api-key-service.js';
import type { EmailTriggerRow } from './email-trigger-service.js';
import type { MemberRow } from './member-presenter.js';

// Single rows for node(id) whose own queries only list them. Each reads under the caller's
// tenant (RLS): another tenant's id finds nothing, exactly like a missing one.

export async function getMember(
  appPool: Pool,
  tenantId: string,
  userId: string,
): Promise<MemberRow | undefined> {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query<MemberRow>(
      `SELECT m.user_id AS id, m.user_id AS "userId", u.email, u.name, m.role, m.created_at AS "createdAt"
         FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.tenant_id = $1 AND m.user_id = $2`,
      [tenantId, userId],
    );
    return rows[0];
  });
}

export async function getApiKey(
  appPool: Pool,
  tenantId: string,
  keyId: string,
): Promise<ApiKeyRow | undefined> {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query<ApiKeyRow>(
      `SELECT id, name, prefix, scopes, created_at AS "createdAt", expires_at AS "expiresAt",
              last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"
         FROM api_keys WHERE tenant_id = $1 AND id = $2`,
      [tenantId, keyId],
    );
    return rows[0];
  });
}

export async function getWorkflowVersion(
  appPool: Pool,
  tenantId: string,
  workflowId: string,
  version: number,
) {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query<{
      workflowId: string;
      version: number;
      definition: unknown;
      createdAt: Date;
    }>(
      `SELECT workflow_id AS "workflowId", version, definition, created_at AS "createdAt"
         FROM workflow_versions WHERE tenant_id = $1 AND workflow_id = $2 AND version = $3`,
      [tenantId, workflowId, version],
    );
    return rows[0];
  });
}

export async function getWebhookTrigger(appPool: Pool, tenantId: string, id: string) {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query<WebhookTriggerView>(
      `SELECT id, workflow_id AS "workflowId", name, created_by AS "createdBy", created_at AS "createdAt"
         FROM webhook_triggers WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return rows[0];
  });
}

export async function getSchedule(appPool: Pool, tenantId: string, id: string) {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query<ScheduleView>(
      `SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return rows[0];
  });
}

export async function getEmailTrigger(appPool: Pool, tenantId: string, id: string) {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query<EmailTriggerRow>(
      `SELECT id, workflow_id AS "workflowId", local_part AS "localPart", enabled,
              created_by AS "createdBy", created_at AS "createdAt"
         FROM email_triggers WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return rows[0];
  });
}
