import PDFDocument from 'pdfkit';
import type { VerifiedExport } from './export-verifier.js';
import {
  COLORS,
  ensureSpace,
  FONT,
  pdfText,
  stackedBars,
  stackedColumns,
  table,
} from './report-drawing.js';
import type { AuditReportSummary } from './report-summary.js';

export interface AuditReportInput {
  /** The result of verifying the export; a report is made only from a verified export. */
  verification: VerifiedExport;
  summary: AuditReportSummary;
  /** ISO 8601; printed on the report and stored as the PDF's creation date. */
  generatedAt: string;
}

export interface AuditReportOptions {
  /** Deflate page contents. Default: true (false keeps text searchable with plain tools). */
  compress?: boolean;
}

/** The section titles, in order, as printed in the report. */
export const REPORT_SECTIONS = [
  'Summary',
  'Decisions by model and outcome',
  'Review SLA performance',
  'Changes of policy and permissions',
  'Activity over time',
  'Other actions',
] as const;

const MARGIN = 50;
const WIDTH = 595.28 - 2 * MARGIN;

/**
 * Renders the compliance report as a PDF stream (pipe it to a file). Everything is drawn as
 * text and vector graphics with the standard PDF fonts: no images, no fonts to embed.
 */
export function renderAuditReport(
  input: AuditReportInput,
  options: AuditReportOptions = {},
): PDFKit.PDFDocument {
  const { verification: v, summary: s } = input;
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    compress: options.compress ?? true,
    bufferPages: true,
    info: {
      Title: pdfText(`Audit report: ${v.tenantId}`),
      Author: 'Roster',
      Subject: `Audit events ${v.periodStart} to ${v.periodEnd}`,
      CreationDate: new Date(input.generatedAt),
    },
  });
  summaryPage(doc, input);
  decisions(doc, s);
  reviews(doc, s);
  changes(doc, s);
  activity(doc, s);
  otherActions(doc, s);
  footers(doc, v);
  doc.end();
  return doc;
}

function heading(doc: PDFKit.PDFDocument, title: (typeof REPORT_SECTIONS)[number]): void {
  ensureSpace(doc, 120);
  doc.moveDown(0.5).font(FONT.bold).fontSize(15).fillColor(COLORS.ink).text(title);
  doc.moveDown(0.4);
}

function paragraph(doc: PDFKit.PDFDocument, text: string, color: string = COLORS.ink): void {
  doc.font(FONT.regular).fontSize(9.5).fillColor(color).text(pdfText(text), { width: WIDTH });
  doc.moveDown(0.5);
}

function summaryPage(
  doc: PDFKit.PDFDocument,
  { verification: v, summary: s, generatedAt }: AuditReportInput,
): void {
  doc.font(FONT.bold).fontSize(24).fillColor(COLORS.ink).text('Audit report');
  doc
    .font(FONT.regular)
    .fontSize(12)
    .fillColor(COLORS.muted)
    .text(pdfText(`Tenant ${v.tenantId}`));
  doc.moveDown(0.3).text(`${v.periodStart}  to  ${v.periodEnd}`);
  doc.moveDown(1);
  heading(doc, 'Summary');

  // The verification box: what was checked, and against which keys.
  const top = doc.y;
  const lines = [
    `${count(v.events)} events (seq ${v.firstSeq} to ${v.lastSeq}) form an unbroken hash chain,`,
    `and the export header and all ${count(v.digests)} digests carry valid ed25519 signatures.`,
  ];
  const boxHeight = 50 + 11 * (2 + v.keyIds.length);
  doc.rect(MARGIN, top, WIDTH, boxHeight).lineWidth(1.5).strokeColor(COLORS.ok).stroke();
  doc
    .font(FONT.bold)
    .fontSize(11)
    .fillColor(COLORS.ok)
    .text('VERIFIED', MARGIN + 10, top + 8);
  doc.font(FONT.regular).fontSize(9).fillColor(COLORS.ink);
  for (const line of lines) doc.text(line, MARGIN + 10);
  doc
    .text('Chain head hash:', MARGIN + 10)
    .font(FONT.mono)
    .fontSize(8)
    .text(v.lastHash, MARGIN + 20);
  doc
    .font(FONT.regular)
    .fontSize(9)
    .text('Signing key ids:', MARGIN + 10);
  doc.font(FONT.mono).fontSize(8);
  for (const keyId of v.keyIds) doc.text(keyId, MARGIN + 20);
  doc.x = MARGIN;
  doc.y = top + boxHeight + 12;

  table(
    doc,
    [
      { title: 'Figure', width: 245 },
      { title: 'Count', width: 250, align: 'right' },
    ],
    [
      ['Report generated', generatedAt],
      ['Events in the export', count(s.events)],
      ['First and last event', `${s.firstOccurredAt ?? '-'} / ${s.lastOccurredAt ?? '-'}`],
      [
        'Model decisions (auto / sent to review)',
        `${count(s.decisions.total)} (${count(s.decisions.auto)} / ${count(s.decisions.review)})`,
      ],
      [
        'Reviews decided (on time / breached)',
        `${count(s.reviews.decided)} (${count(s.reviews.onTime)} / ${count(s.reviews.breached)})`,
      ],
      ['Changes of policy, permissions and keys', count(s.changes.total)],
      ['Events of other actions', count(s.unknownActions.reduce((n, a) => n + a.count, 0))],
    ],
  );
  if (s.actions.length > 0) {
    paragraph(doc, 'Events by action (most frequent first):', COLORS.muted);
    table(
      doc,
      [
        { title: 'Action', width: 330 },
        { title: 'Events', width: 80, align: 'right' },
        { title: 'Share', width: 85, align: 'right' },
      ],
      s.actions.slice(0, 15).map((a) => [a.action, count(a.count), percent(a.count, s.events)]),
    );
  }
}

function decisions(doc: PDFKit.PDFDocument, s: AuditReportSummary): void {
  doc.addPage();
  heading(doc, 'Decisions by model and outcome');
  const d = s.decisions;
  if (d.total === 0) {
    paragraph(doc, 'No decision.recorded events in this export.', COLORS.muted);
    return;
  }
  paragraph(
    doc,
    `${count(d.total)} model decisions: ${count(d.auto)} applied automatically (${percent(d.auto, d.total)}), ${count(d.review)} sent to a person because the confidence was below the threshold (${percent(d.review, d.total)}).`,
  );
  table(
    doc,
    [
      { title: 'Model', width: 140 },
      { title: 'Version', width: 70 },
      { title: 'Auto', width: 55, align: 'right' },
      { title: 'Review', width: 55, align: 'right' },
      { title: 'Total', width: 55, align: 'right' },
      { title: 'Review rate', width: 60, align: 'right' },
      { title: 'Mean conf.', width: 60, align: 'right' },
    ],
    d.rows.map((r) => [
      r.model,
      r.modelVersion,
      count(r.auto),
      count(r.review),
      count(r.auto + r.review),
      percent(r.review, r.auto + r.review),
      r.meanConfidence.toFixed(3),
    ]),
  );
  stackedBars(doc, {
    categories: d.rows.map((r) => `${r.model} ${r.modelVersion}`),
    series: [
      { name: 'auto', color: COLORS.series[0], values: d.rows.map((r) => r.auto) },
      { name: 'review', color: COLORS.series[1], values: d.rows.map((r) => r.review) },
    ],
  });
}

function reviews(doc: PDFKit.PDFDocument, s: AuditReportSummary): void {
  heading(doc, 'Review SLA performance');
  const r = s.reviews;
  if (r.decided === 0) {
    paragraph(doc, 'No review.decided events in this export.', COLORS.muted);
    return;
  }
  paragraph(
    doc,
    `${count(r.decided)} reviews decided: ${count(r.onTime)} by their due time (${percent(r.onTime, r.decided)}), ${count(r.breached)} after it (${percent(r.breached, r.decided)}). Median time from opening to decision: ${minutes(r.medianMinutes)}; 90th percentile: ${minutes(r.p90Minutes)}.`,
  );
  stackedBars(doc, {
    categories: ['On time', 'Breached'],
    series: [
      { name: 'on time', color: COLORS.ok, values: [r.onTime, 0] },
      { name: 'breached', color: COLORS.bad, values: [0, r.breached] },
    ],
  });
  stackedBars(doc, {
    categories: ['Approved', 'Rejected', 'Corrected'],
    series: [
      {
        name: 'reviews by outcome',
        color: COLORS.series[3],
        values: [r.byOutcome.approved, r.byOutcome.rejected, r.byOutcome.corrected],
      },
    ],
  });
}

function changes(doc: PDFKit.PDFDocument, s: AuditReportSummary): void {
  heading(doc, 'Changes of policy and permissions');
  const c = s.changes;
  if (c.total === 0) {
    paragraph(doc, 'No policy, permission, role or API key changes in this export.', COLORS.muted);
    return;
  }
  paragraph(doc, `${count(c.total)} changes, in chain order.`);
  table(
    doc,
    [
      { title: 'Seq', width: 45, align: 'right', mono: true },
      { title: 'When (UTC)', width: 85 },
      { title: 'Action', width: 90 },
      { title: 'By', width: 90 },
      { title: 'Change', width: 185 },
    ],
    c.rows.map((row) => [
      String(row.seq),
      row.occurredAt.slice(0, 16).replace('T', ' '),
      row.action,
      row.actor,
      row.summary,
    ]),
  );
  if (c.omitted > 0) {
    paragraph(
      doc,
      `${count(c.omitted)} later changes are not listed; the CSV export has them all.`,
      COLORS.muted,
    );
  }
}

function activity(doc: PDFKit.PDFDocument, s: AuditReportSummary): void {
  heading(doc, 'Activity over time');
  const a = s.activity;
  paragraph(doc, `Events per ${a.bucketLabel} (UTC), by kind.`);
  const label = (iso: string) =>
    a.bucketMs < 86_400_000 ? `${iso.slice(5, 13).replace('T', ' ')}h` : iso.slice(0, 10);
  const names = { decisions: 'decisions', reviews: 'reviews', changes: 'changes', other: 'other' };
  stackedColumns(doc, {
    height: 180,
    categories: a.buckets.map((b) => label(b.start)),
    series: (['decisions', 'reviews', 'changes', 'other'] as const).map((key, i) => ({
      name: names[key],
      color: COLORS.series[i] ?? COLORS.muted,
      values: a.buckets.map((b) => b.counts[key]),
    })),
  });
}

function otherActions(doc: PDFKit.PDFDocument, s: AuditReportSummary): void {
  heading(doc, 'Other actions');
  if (s.unknownActions.length === 0 && s.unreadable.length === 0) {
    paragraph(doc, 'Every event in this export is summarized above.', COLORS.muted);
    return;
  }
  if (s.unknownActions.length > 0) {
    paragraph(doc, 'Actions this report does not break down (they are verified all the same):');
    table(
      doc,
      [
        { title: 'Action', width: 395 },
        { title: 'Events', width: 100, align: 'right' },
      ],
      s.unknownActions.map((a) => [a.action, count(a.count)]),
    );
  }
  if (s.unreadable.length > 0) {
    paragraph(
      doc,
      'Known actions whose data did not have the documented shape (counted as other):',
      COLORS.bad,
    );
    table(
      doc,
      [
        { title: 'Action', width: 395 },
        { title: 'Events', width: 100, align: 'right' },
      ],
      s.unreadable.map((a) => [a.action, count(a.count)]),
    );
  }
}

function footers(doc: PDFKit.PDFDocument, v: VerifiedExport): void {
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    // Writing inside the bottom margin would otherwise start a new page.
    const bottomMargin = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc
      .font(FONT.regular)
      .fontSize(7.5)
      .fillColor(COLORS.muted)
      .text(
        pdfText(
          `Roster audit report - tenant ${v.tenantId} - seq ${v.firstSeq}..${v.lastSeq} - page ${i + 1} of ${range.count}`,
        ),
        MARGIN,
        doc.page.height - 35,
        { width: WIDTH, align: 'center', lineBreak: false },
      );
    doc.page.margins.bottom = bottomMargin;
  }
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`;
}

function minutes(value: number | null): string {
  if (value === null) return '-';
  if (value < 90) return `${value.toFixed(1)} min`;
  return `${(value / 60).toFixed(1)} h`;
}
