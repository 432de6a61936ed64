/**
 * Vector drawing for the PDF report: tables and bar charts drawn with pdfkit primitives, so
 * the report needs no browser, canvas or image library.
 */

export const COLORS = {
  ink: '#1f2933',
  muted: '#616e7c',
  rule: '#cbd2d9',
  band: '#f0f4f8',
  ok: '#2f855a',
  bad: '#c53030',
  series: ['#2b6cb0', '#dd6b20', '#38a169', '#805ad5', '#718096'],
} as const;

export const FONT = { regular: 'Helvetica', bold: 'Helvetica-Bold', mono: 'Courier' } as const;

/**
 * The standard PDF fonts only cover Latin-1; anything else would print as garbage, so it
 * becomes "?" (the export itself keeps the exact text).
 */
export function pdfText(text: string): string {
  return text.replace(/[^\x20-\x7e\u00a0-\u00ff]/g, '?');
}

/** Cuts `text` with "..." so that it fits `width` at the current font and size. */
export function fit(doc: PDFKit.PDFDocument, text: string, width: number): string {
  const clean = pdfText(text);
  if (doc.widthOfString(clean) <= width) return clean;
  let n = clean.length;
  while (n > 0 && doc.widthOfString(`${clean.slice(0, n)}...`) > width) n--;
  return `${clean.slice(0, n)}...`;
}

export interface Column {
  title: string;
  width: number;
  align?: 'left' | 'right';
  mono?: boolean;
}

const ROW = 16;

/** Bottom of the writable area of the current page. */
function bottom(doc: PDFKit.PDFDocument): number {
  return doc.page.height - doc.page.margins.bottom;
}

/** Starts a new page when fewer than `height` points are left; returns the y to draw at. */
export function ensureSpace(doc: PDFKit.PDFDocument, height: number): number {
  if (doc.y + height > bottom(doc)) doc.addPage();
  return doc.y;
}

/** A table with a header row that repeats on each page it runs onto. */
export function table(
  doc: PDFKit.PDFDocument,
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
): void {
  const x0 = doc.page.margins.left;
  const width = columns.reduce((w, c) => w + c.width, 0);
  const header = (y: number) => {
    doc.rect(x0, y, width, ROW).fill(COLORS.band);
    cells(
      columns.map((c) => c.title),
      y,
      true,
    );
  };
  const cells = (values: readonly string[], y: number, bold: boolean) => {
    let x = x0;
    columns.forEach((column, i) => {
      doc
        .font(bold ? FONT.bold : column.mono ? FONT.mono : FONT.regular)
        .fontSize(8)
        .fillColor(COLORS.ink);
      const text = fit(doc, values[i] ?? '', column.width - 8);
      doc.text(text, x + 4, y + 4, {
        width: column.width - 8,
        align: column.align ?? 'left',
        lineBreak: false,
      });
      x += column.width;
    });
  };
  let y = ensureSpace(doc, ROW * 2);
  header(y);
  y += ROW;
  for (const row of rows) {
    if (y + ROW > bottom(doc)) {
      doc.addPage();
      y = doc.y;
      header(y);
      y += ROW;
    }
    cells(row, y, false);
    doc
      .moveTo(x0, y + ROW)
      .lineTo(x0 + width, y + ROW)
      .lineWidth(0.5)
      .strokeColor(COLORS.rule)
      .stroke();
    y += ROW;
  }
  doc.x = x0;
  doc.y = y + 10;
}

export interface Series {
  name: string;
  color: string;
  values: readonly number[];
}

export interface ChartBox {
  height: number;
  /** Label under (vertical) or beside (horizontal) each bar. */
  categories: readonly string[];
  series: readonly Series[];
}

/** A round axis maximum and its tick step (1, 2 or 5 times a power of ten). */
export function niceScale(max: number, ticks = 4): { max: number; step: number } {
  if (!(max > 0)) return { max: 1, step: 1 };
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  return { max: Math.ceil(max / step) * step, step: Math.max(1, step) };
}

function legend(doc: PDFKit.PDFDocument, series: readonly Series[], x: number, y: number): void {
  let at = x;
  doc.font(FONT.regular).fontSize(8);
  for (const s of series) {
    doc.rect(at, y + 1, 8, 8).fill(s.color);
    doc.fillColor(COLORS.ink).text(pdfText(s.name), at + 12, y + 1, { lineBreak: false });
    at += 20 + doc.widthOfString(pdfText(s.name));
  }
}

/** Vertical stacked bars, one per category, with a y axis, grid lines and a legend. */
export function stackedColumns(doc: PDFKit.PDFDocument, chart: ChartBox): void {
  const total = chart.height + 40;
  const top = ensureSpace(doc, total);
  const left = doc.page.margins.left + 36;
  const right = doc.page.width - doc.page.margins.right;
  const plotTop = top + 16;
  const base = plotTop + chart.height;
  const sums = chart.categories.map((_, i) =>
    chart.series.reduce((n, s) => n + (s.values[i] ?? 0), 0),
  );
  const scale = niceScale(Math.max(0, ...sums));
  legend(doc, chart.series, left, top);
  grid(doc, scale, left, right, plotTop, chart.height);
  const slot = (right - left) / Math.max(1, chart.categories.length);
  const barWidth = Math.max(1, slot * 0.7);
  chart.categories.forEach((_, i) => {
    let y = base;
    for (const s of chart.series) {
      const h = ((s.values[i] ?? 0) / scale.max) * chart.height;
      if (h > 0)
        doc.rect(left + i * slot + (slot - barWidth) / 2, y - h, barWidth, h).fill(s.color);
      y -= h;
    }
  });
  // Label a few categories only, so that labels never overlap.
  const every = Math.ceil(chart.categories.length / 8);
  doc.font(FONT.regular).fontSize(7).fillColor(COLORS.muted);
  chart.categories.forEach((label, i) => {
    if (i % every !== 0) return;
    doc.text(pdfText(label), left + i * slot, base + 4, { lineBreak: false });
  });
  doc.x = doc.page.margins.left;
  doc.y = top + total;
}

/** Horizontal stacked bars, one row per category (e.g. per model), labels on the left. */
export function stackedBars(doc: PDFKit.PDFDocument, chart: Omit<ChartBox, 'height'>): void {
  const rowHeight = 16;
  const total = 36 + rowHeight * chart.categories.length + 14;
  const top = ensureSpace(doc, Math.min(total, 300));
  const labelWidth = 150;
  const left = doc.page.margins.left + labelWidth;
  const right = doc.page.width - doc.page.margins.right - 30;
  const sums = chart.categories.map((_, i) =>
    chart.series.reduce((n, s) => n + (s.values[i] ?? 0), 0),
  );
  const scale = niceScale(Math.max(0, ...sums));
  legend(doc, chart.series, left, top);
  let y = top + 18;
  chart.categories.forEach((label, i) => {
    if (y + rowHeight > bottom(doc)) {
      doc.addPage();
      y = doc.y;
    }
    doc.font(FONT.regular).fontSize(8).fillColor(COLORS.ink);
    doc.text(fit(doc, label, labelWidth - 8), doc.page.margins.left, y + 4, { lineBreak: false });
    let x = left;
    for (const s of chart.series) {
      const w = ((s.values[i] ?? 0) / scale.max) * (right - left);
      if (w > 0) doc.rect(x, y + 2, w, rowHeight - 4).fill(s.color);
      x += w;
    }
    doc
      .font(FONT.regular)
      .fontSize(7)
      .fillColor(COLORS.muted)
      .text(String(sums[i]), x + 4, y + 5, { lineBreak: false });
    y += rowHeight;
  });
  doc.moveTo(left, y).lineTo(right, y).lineWidth(0.5).strokeColor(COLORS.rule).stroke();
  doc.font(FONT.regular).fontSize(7).fillColor(COLORS.muted);
  for (let v = 0; v <= scale.max; v += scale.step) {
    doc.text(String(v), left + (v / scale.max) * (right - left) - 4, y + 3, { lineBreak: false });
  }
  doc.x = doc.page.margins.left;
  doc.y = y + 20;
}

function grid(
  doc: PDFKit.PDFDocument,
  scale: { max: number; step: number },
  left: number,
  right: number,
  top: number,
  height: number,
): void {
  doc.font(FONT.regular).fontSize(7);
  for (let v = 0; v <= scale.max; v += scale.step) {
    const y = top + height - (v / scale.max) * height;
    doc.moveTo(left, y).lineTo(right, y).lineWidth(0.5).strokeColor(COLORS.rule).stroke();
    doc
      .fillColor(COLORS.muted)
      .text(String(v), left - 34, y - 3, { width: 30, align: 'right', lineBreak: false });
  }
}
