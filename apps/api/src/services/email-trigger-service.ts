import { randomBytes } from 'node:crypto';
import { recordAudit } from '@roster/audit';
import { subjectRecord } from '@roster/authz';
import { type Pool, withTenant } from '@roster/db';
import { notFound } from '../errors.js';
import type { PageRequest } from '../graphql/pagination.js';
import { toPage } from '../graphql/pagination.js';
import type { ServiceActor } from './service-actor.js';

/** Used when the API is not told ROSTER_INBOUND_EMAIL_DOMAIN (matches the config default). */
export const DEFAULT_INBOUND_EMAIL_DOMAIN = 'inbound.roster.test';

export interface EmailTriggerRow {
  id: string;
  workflowId: string;
  localPart: string;
  enabled: boolean;
  createdBy: string | null;
  createdAt: Date;
}

export type EmailTriggerActor = ServiceActor;

const COLUMNS = `id, workflow_id AS "workflowId", local_part AS "localPart", enabled,
                 created_by AS "createdBy", created_at AS "createdAt"`;

/**
 * Creates an address for the workflow. The local part is random (80 bits): whoever knows the
 * address can start runs, so it must not be guessable from the tenant or workflow.
 */
export async function createEmailTrigger(
  appPool: Pool,
  actor: EmailTriggerActor,
  input: { workflowId: string },
): Promise<EmailTriggerRow> {
  const localPart = randomBytes(10).toString('hex');
  const row = await withTenant(appPool, actor.tenantId, async ({ client }) => {
    const { rows } = await client.query<EmailTriggerRow>(
      `INSERT INTO email_triggers (tenant_id, workflow_id, local_part, created_by)
       SELECT $1, w.id, $3, $4 FROM workflows w WHERE w.tenant_id = $1 AND w.id = $2
       RETURNING ${COLUMNS}`,
      [actor.tenantId, input.workflowId, localPart, actor.userId],
    );
    const created = rows[0];
    if (created) {
      await recordAudit(client, actor.tenantId, actor.audit, {
        action: 'emailTrigger.created',
        subject: { type: 'emailTrigger', id: created.id },
        after: { workflowId: created.workflowId, localPart: created.localPart },
      });
    }
    return created;
  });
  if (!row) throw notFound('That workflow');
  return row;
}

/** NOT_FOUND before FORBIDDEN, then `delete` on THAT row (ownership conditions). */
export async function deleteEmailTrigger(
  appPool: Pool,
  actor: EmailTriggerActor,
  triggerId: string,
): Promise<void> {
  await withTenant(appPool, actor.tenantId, async ({ client }) => {
    const { rows } = await client.query<EmailTriggerRow>(
      `SELECT ${COLUMNS} FROM email_triggers WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
      [actor.tenantId, triggerId],
    );
    const row = rows[0];
    if (!row) throw notFound('That e-mail trigger');
    actor.ability.assert(
      'delete',
      subjectRecord('WebhookTrigger', { ...row, tenantId: actor.tenantId }),
    );
    await client.query('DELETE FROM email_triggers WHERE tenant_id = $1 AND id = $2', [
      actor.tenantId,
      triggerId,
    ]);
    await recordAudit(client, actor.tenantId, actor.audit, {
      action: 'emailTrigger.deleted',
      subject: { type: 'emailTrigger', id: row.id },
      before: { workflowId: row.workflowId, localPart: row.localPart },
    });
  });
}

/** A tenant's e-mail triggers, oldest first, keyset-paged. */
export async function listEmailTriggers(
  appPool: Pool,
  tenantId: string,
  filter: { workflowId: string | null },
  page: PageRequest,
) {
  return withTenant(appPool, tenantId, async ({ client }) => {
    const { rows } = await client.query<EmailTriggerRow>(
      `SELECT ${COLUMNS} FROM email_triggers
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
