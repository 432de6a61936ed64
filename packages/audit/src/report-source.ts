import { readVerifiedEvents } from './export-reader.js';
import type { VerifiedExport, VerifyFailure } from './export-verifier.js';
import type { PublicKeyInput, PublicKeyRing } from './keys.js';
import {
  AuditReportBuilder,
  type AuditReportSummary,
  type ReportSummaryOptions,
} from './report-summary.js';

export type SummarizeResult =
  | { ok: true; verification: VerifiedExport; summary: AuditReportSummary }
  | { ok: false; failure: VerifyFailure };

/**
 * Verifies an export and summarizes its events in one pass. A report is only ever made from
 * an export that verified: on failure there is no summary, only the failure.
 */
export async function summarizeExport(
  lines: AsyncIterable<string> | Iterable<string>,
  publicKeys: PublicKeyRing | Iterable<PublicKeyInput>,
  options: ReportSummaryOptions = {},
): Promise<SummarizeResult> {
  const reader = readVerifiedEvents(lines, publicKeys);
  const builder = new AuditReportBuilder(options);
  for await (const event of reader.events) builder.add(event);
  const result = reader.result();
  if (!result.ok) return result;
  return {
    ok: true,
    verification: result,
    summary: builder.summary({ start: result.periodStart, end: result.periodEnd }),
  };
}
