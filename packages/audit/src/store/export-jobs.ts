import type { KeyObject } from 'node:crypto';
import { type Pool, withTenant } from '@roster/db';
import { writeCsv } from '../csv.js';
import type { AuditEvent } from '../event.js';
import { readVerifiedEvents } from '../export-reader.js';
import { verifyExport } from '../export-verifier.js';
import { createPublicKeyRing } from '../keys.js';
import { renderAuditReport } from '../report-pdf.js';
import { summarizeExport } from '../report-source.js';
import type { AuditReportSummary } from '../report-summary.js';
import { signAllTenantDigests, signAuditDigest } from './digests.js';
import { exportAudit } from './export-store.js';

/** graphile-worker task that seals every tenant's chain and signs its digest (hourly, on demand). */
export const AUDIT_SEAL_TASK = 'roster_audit_seal';
/** graphile-worker task that produces one requested audit export (payload `{ tenantId, exportId }`). */
export const AUDIT_EXPORT_TASK = 'roster_audit_export';
/**
 * The crontab line: at minute 0 of every hour. graphile-worker's known_crontabs row makes each
 * hour's job exactly once however many workers run the crontab.
 */
export const AUDIT_SEAL_CRONTAB = `0 * * * * ${AUDIT_SEAL_TASK}`;

export type AuditExportFormat = 'jsonl' | 'csv' | 'pdf';

export const AUDIT_EXPORT_CONTENT_TYPES: Record<AuditExportFormat, string> = {
  jsonl: 'application/x-ndjson',
  csv: 'text/csv; charset=utf-8',
  pdf: 'application/pdf',
};

/**
 * The seal task's work: one tenant (on demand, payload `{ tenantId }`) or all of them (cron).
 * A digest is signed only where the chain moved (or the tenant has none yet).
 */
export async function runAuditSeal(
  pool: Pool,
  signingKey: KeyObject | string,
  payload: unknown,
  now: Date = new Date(),
): Promise<{ signed: number; unchanged: number; failed: { tenantId: string; error: unknown }[] }> {
  const tenantId = (payload as { tenantId?: unknown } | null)?.tenantId;
  if (typeof tenantId === 'string') {
    const { created } = await signAuditDigest(pool, tenantId, signingKey, { now });
    return { signed: created ? 1 : 0, unchanged: created ? 0 : 1, failed: [] };
  }
  return signAllTenantDigests(pool, signingKey, { now });
}

async function collect(lines: AsyncIterable<string> | Iterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

async function pdfBytes(doc: PDFKit.PDFDocument): Promise<Buffer> {
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on('end', () => resolve());
    doc.on('error', reject);
  });
  // renderAuditReport ends the document itself; this only collects what it writes.
  await ended;
  return Buffer.concat(chunks);
}

/** How the reading copies of an export are redacted; see produceAuditExport. */
export interface ExportRedaction {
  event: (event: AuditEvent) => AuditEvent;
  summary: (summary: AuditReportSummary) => AuditReportSummary;
}

async function* mapEvents(
  events: AsyncIterable<AuditEvent>,
  map: (event: AuditEvent) => AuditEvent,
): AsyncGenerator<AuditEvent> {
  for await (const event of events) yield map(event);
}

/**
 * Produces a pending audit export (row of audit_exports) and stores the file with it: the
 * signed JSONL export of the period, or the CSV / PDF report made from that export after it
 * verified with the signing key's public key. A failure is stored on the row, not thrown again.
 * Returns the row's final status.
 */
export async function produceAuditExport(
  pool: Pool,
  tenantId: string,
  exportId: string,
  signingKey: KeyObject | string,
  options: {
    now?: Date;
    /**
     * Redaction of the reading copies (CSV events, the PDF's list of changes), given by the
     * caller from the tenant's governance policy. The JSONL export is never redacted: its
     * events are hash-chained and signed (docs/decisions/0010-redaction-points.md).
     */
    redaction?: ExportRedaction;
  } = {},
): Promise<'ready' | 'failed' | 'missing'> {
  const row = await withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<{
      format: AuditExportFormat;
      period_from: Date;
      period_to: Date;
      status: string;
    }>(
      'SELECT format, period_from, period_to, status FROM audit_exports WHERE tenant_id = $1 AND id = $2',
      [tenantId, exportId],
    );
    return rows[0];
  });
  if (!row) return 'missing';
  if (row.status !== 'pending') return row.status as 'ready' | 'failed';
  const now = options.now ?? new Date();
  let content: Buffer;
  let events = 0;
  try {
    const lines = await collect(
      exportAudit(pool, tenantId, {
        from: row.period_from,
        to: row.period_to,
        signingKey,
        now,
      }),
    );
    const keys = createPublicKeyRing([signingKey]);
    if (row.format === 'jsonl') {
      // Checked before it is stored: a compliance officer never downloads one that fails.
      const result = await verifyExport(lines, keys);
      if (!result.ok) throw new Error(`the export did not verify: ${result.failure.message}`);
      events = result.events;
      content = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
    } else if (row.format === 'csv') {
      const reader = readVerifiedEvents(lines, keys);
      const redactEvent = options.redaction?.event;
      const csv = await collect(
        writeCsv(redactEvent ? mapEvents(reader.events, redactEvent) : reader.events),
      );
      const result = reader.result();
      if (!result.ok) throw new Error(`the export did not verify: ${result.failure.message}`);
      events = result.events;
      content = Buffer.from(csv.join(''), 'utf8');
    } else {
      const summarized = await summarizeExport(lines, keys);
      if (!summarized.ok) {
        throw new Error(`the export did not verify: ${summarized.failure.message}`);
      }
      events = summarized.verification.events;
      content = await pdfBytes(
        renderAuditReport({
          verification: summarized.verification,
          summary: options.redaction?.summary(summarized.summary) ?? summarized.summary,
          generatedAt: now.toISOString(),
        }),
      );
    }
  } catch (error) {
    await withTenant(pool, tenantId, ({ client }) =>
      client.query(
        `UPDATE audit_exports SET status = 'failed', error = $3, completed_at = now()
          WHERE tenant_id = $1 AND id = $2`,
        [tenantId, exportId, error instanceof Error ? error.message : String(error)],
      ),
    );
    return 'failed';
  }
  await withTenant(pool, tenantId, ({ client }) =>
    client.query(
      `UPDATE audit_exports SET status = 'ready', content = $3, byte_size = $4, event_count = $5,
              completed_at = now()
        WHERE tenant_id = $1 AND id = $2`,
      [tenantId, exportId, content, content.length, events],
    ),
  );
  return 'ready';
}
