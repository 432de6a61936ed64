import { describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from './keys.js';
import { REPORT_SECTIONS, renderAuditReport } from './report-pdf.js';
import { summarizeExport } from './report-source.js';
import { sampleExportLines } from './sample-export.js';

const key = generateSigningKeyPair();

async function sample(events: number): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of sampleExportLines({
    events,
    signingKey: key.privateKeyPem,
    digestEvery: 50,
  }))
    lines.push(line);
  return lines;
}

async function pdfOf(lines: string[]): Promise<string> {
  const summarized = await summarizeExport(lines, [key.publicKeyPem]);
  if (!summarized.ok) throw new Error(summarized.failure.message);
  const doc = renderAuditReport(
    { ...summarized, generatedAt: '2025-04-01T00:00:00.000Z' },
    { compress: false },
  );
  const chunks: Buffer[] = [];
  for await (const chunk of doc) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('latin1');
}

/** The text pdfkit draws: hex strings inside TJ arrays of uncompressed content streams. */
function textOf(pdf: string): string {
  const runs = [...pdf.matchAll(/\[((?:<[0-9a-f]*>\s*-?[\d.]*\s*)+)\] TJ/g)];
  return runs
    .map((run) =>
      [...run[1]!.matchAll(/<([0-9a-f]*)>/g)]
        .map((hex) => Buffer.from(hex[1]!, 'hex').toString('latin1'))
        .join(''),
    )
    .join('\n');
}

describe('renderAuditReport', () => {
  it('writes a PDF with every section, the verification result and the figures', async () => {
    const lines = await sample(1200);
    const pdf = await pdfOf(lines);
    expect(pdf.startsWith('%PDF-')).toBe(true);
    expect(pdf.trimEnd().endsWith('%%EOF')).toBe(true);
    const pages = [...pdf.matchAll(/\/Type \/Page\n/g)].length;
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(pdf).toContain(`/Count ${pages}`);

    const text = textOf(pdf);
    for (const title of REPORT_SECTIONS) expect(text).toContain(title);
    const header = JSON.parse(lines[0]!) as { keyId: string; lastHash: string };
    expect(text).toContain('VERIFIED');
    expect(text).toContain(header.keyId);
    expect(text).toContain(header.lastHash);
    expect(text).toContain('Tenant sample-tenant');
    expect(text).toContain('1,200 events (seq 1 to 1200)');
    // Rows of the decisions table and the changes table.
    expect(text).toContain('email-triage');
    expect(text).toContain('invoice-extractor');
    expect(text).toContain('review-thresholds: email-triage threshold');
    expect(text).toContain(`page ${pages} of ${pages}`);
  });

  it('says so when an export has no decisions, reviews or changes', async () => {
    const pdf = await pdfOf(await sample(0));
    const text = textOf(pdf);
    expect(text).toContain('No decision.recorded events in this export.');
    expect(text).toContain('No review.decided events in this export.');
    expect(text).toContain('No policy, permission, role or API key changes in this export.');
  });
});
