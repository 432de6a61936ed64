import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { type AuditReportSummary, renderAuditReport, summarizeExport } from '@roster/audit';
import {
  createReportSummaryRedactor,
  DEFAULT_GOVERNANCE_POLICY,
  type RedactionRules,
  redactionRulesOf,
} from '@roster/governance';
import { openExportFile } from './export-file.js';
import { discard, keep, temporaryPathFor } from './output-file.js';
import { readPublicKeys } from './public-keys.js';
import { EXIT, UsageError } from './usage-error.js';
import { type AuditIo, describeVerified, reportFailure } from './verify.js';

export interface ReportOptions {
  /** Default: true. Uncompressed PDFs can be searched with plain text tools. */
  compress?: boolean;
  /** Printed on the report; default: now. */
  generatedAt?: string;
  /** Personal data in the report's text is redacted; default: the governance defaults' rules. */
  redaction?: RedactionRules | false;
}

/**
 * `roster audit report <export> --public-key <pem>... --out <report.pdf>`: verifies the export
 * first and renders the PDF report only if it verified.
 */
export async function auditReport(
  exportPath: string,
  keyFiles: readonly string[],
  out: string,
  io: AuditIo,
  options: ReportOptions = {},
): Promise<number> {
  const keys = await readPublicKeys(keyFiles);
  const temporary = temporaryPathFor(out);
  const file = await openExportFile(exportPath);
  const summarized = await summarizeExport(file.lines, keys).finally(() => file.close());
  if (!summarized.ok) {
    reportFailure(exportPath, summarized.failure, io);
    io.warn(`  no report was written to ${out}`);
    return EXIT.failed;
  }
  const pdf = renderAuditReport(
    {
      verification: summarized.verification,
      summary: redactSummary(summarized.summary, options.redaction),
      generatedAt: options.generatedAt ?? new Date().toISOString(),
    },
    { compress: options.compress ?? true },
  );
  try {
    await pipeline(pdf, createWriteStream(temporary));
  } catch (cause) {
    await discard(temporary);
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === undefined) throw cause;
    throw new UsageError('--out', `cannot write ${out} (${code})`, { cause });
  }
  await keep(temporary, out);
  for (const line of describeVerified(exportPath, summarized.verification)) io.say(line);
  io.say(`✓ Wrote ${out}`);
  return EXIT.ok;
}

/** The report's free text (the changes' summaries, actors, subjects) with personal data replaced. */
function redactSummary(
  summary: AuditReportSummary,
  redaction: RedactionRules | false | undefined,
): AuditReportSummary {
  const rules = redaction ?? redactionRulesOf(DEFAULT_GOVERNANCE_POLICY.redaction);
  return rules === false ? summary : createReportSummaryRedactor(rules)(summary);
}
