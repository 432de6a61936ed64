import { canonicalize } from './canonical-json.js';
import type { AuditEvent } from './event.js';

export const CSV_COLUMNS = [
  'seq',
  'id',
  'occurredAt',
  'actorType',
  'actorId',
  'action',
  'subjectType',
  'subjectId',
  'traceId',
  'before',
  'after',
  'data',
  'prevHash',
  'hash',
] as const;

export interface CsvOptions {
  /**
   * Prefix cells that start with = + - @ tab or carriage return with a single quote, so that
   * spreadsheets do not run them as formulas (OWASP "CSV injection"). Default: true.
   */
  escapeFormulas?: boolean;
}

/**
 * Writes events as RFC 4180 CSV: a header row, then one row per event, each ending in CRLF.
 * JSON columns hold canonical JSON; absent before/after are empty cells. CSV is for reading;
 * the JSONL export is the verifiable one.
 */
export async function* writeCsv(
  events: AsyncIterable<AuditEvent> | Iterable<AuditEvent>,
  options: CsvOptions = {},
): AsyncGenerator<string> {
  const escapeFormulas = options.escapeFormulas ?? true;
  yield csvRow(CSV_COLUMNS, escapeFormulas);
  for await (const e of events) {
    yield csvRow(
      [
        String(e.seq),
        e.id,
        e.occurredAt,
        e.actor.type,
        e.actor.id,
        e.action,
        e.subject.type,
        e.subject.id,
        e.traceId ?? '',
        e.before === undefined ? '' : canonicalize(e.before),
        e.after === undefined ? '' : canonicalize(e.after),
        canonicalize(e.data),
        e.prevHash,
        e.hash,
      ],
      escapeFormulas,
    );
  }
}

/** One CSV record with its CRLF. */
export function csvRow(cells: readonly string[], escapeFormulas = true): string {
  return `${cells.map((cell) => csvCell(cell, escapeFormulas)).join(',')}\r\n`;
}

function csvCell(raw: string, escapeFormulas: boolean): string {
  const cell = escapeFormulas && /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}
