// The worker's audit export job redacts the reading copies (CSV) with the tenant's governance
// policy, while the signed JSONL export keeps every byte the hash chain covers
// (docs/decisions/0010-redaction-points.md).
import { generateSigningKeyPair, recordAudit, systemAuditContext } from '@roster/audit';
import { withTenant } from '@roster/db';
import { createTenant, createTestDatabase } from '@roster/testkit';
import type { JobHelpers } from 'graphile-worker';
import { afterAll, describe, expect, it } from 'vitest';
import { rosterAuditExport } from './tasks/roster_audit_export.js';

const db = await createTestDatabase();
const key = generateSigningKeyPair();
const tenant = await createTenant(db.ownerPool, 'Redacted exports');
const EMAIL = 'jane.doe@example.org';
const CARD = '4111 1111 1111 1111';

afterAll(() => db.drop());

const helpers = { logger: { error: () => {}, warn: () => {} } } as unknown as JobHelpers;

await withTenant(db.appPool, tenant.id, ({ client }) =>
  recordAudit(client, tenant.id, systemAuditContext('test'), {
    action: 'member.invited',
    subject: { type: 'Invitation', id: 'inv-1' },
    data: { email: EMAIL, note: `card on file ${CARD}` },
  }),
);

/** Requests an export of the last hour in `format`, runs the worker's task, returns the file. */
async function produce(format: 'jsonl' | 'csv'): Promise<string> {
  const { rows } = await withTenant(db.appPool, tenant.id, ({ client }) =>
    client.query<{ id: string }>(
      `INSERT INTO audit_exports (tenant_id, format, period_from, period_to)
       VALUES ($1, $2, now() - interval '1 hour', now() + interval '1 minute') RETURNING id`,
      [tenant.id, format],
    ),
  );
  const exportId = rows[0]!.id;
  await rosterAuditExport(db.appPool, key.privateKeyPem)(
    { tenantId: tenant.id, exportId },
    helpers,
  );
  const stored = await db.ownerPool.query<{
    status: string;
    error: string | null;
    content: Buffer;
  }>('SELECT status, error, content FROM audit_exports WHERE tenant_id = $1 AND id = $2', [
    tenant.id,
    exportId,
  ]);
  expect(stored.rows[0]).toMatchObject({ status: 'ready', error: null });
  return stored.rows[0]!.content.toString('utf8');
}

describe('roster_audit_export', () => {
  it('redacts personal data in the CSV copy and leaves the signed JSONL export whole', async () => {
    const csv = await produce('csv');
    expect(csv).toContain('member.invited');
    expect(csv).not.toContain(EMAIL);
    expect(csv).not.toContain(CARD);
    const jsonl = await produce('jsonl');
    expect(jsonl).toContain(EMAIL);
    expect(jsonl).toContain(CARD);
  });
});
