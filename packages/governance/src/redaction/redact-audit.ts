// Redaction of audit events for the reading copies of an export (CSV, PDF report). The JSONL
// export is never redacted: its events are hash-chained and signed, and a changed byte fails
// verification (docs/decisions/0010-redaction-points.md).
import { createRedactor, type JsonValue } from './redact-value.js';
import type { RedactionRules } from './rules.js';

/** The payload parts of an audit event; ids, hashes and times are left as they are. */
interface EventPayload {
  data: JsonValue;
  before?: JsonValue;
  after?: JsonValue;
}

/** A function that returns the event with `data`, `before` and `after` redacted. */
export function createAuditEventRedactor(
  rules: RedactionRules,
): <E extends EventPayload>(event: E) => E {
  const redact = createRedactor(rules);
  return (event) => ({
    ...event,
    data: redact(event.data),
    ...(event.before !== undefined && { before: redact(event.before) }),
    ...(event.after !== undefined && { after: redact(event.after) }),
  });
}

/** Redacts a stream of events (e.g. a verified export's) as it is read. */
export async function* redactAuditEvents<E extends EventPayload>(
  events: AsyncIterable<E> | Iterable<E>,
  rules: RedactionRules,
): AsyncGenerator<E> {
  const redact = createAuditEventRedactor(rules);
  for await (const event of events) yield redact(event);
}

/** The rows of an audit report's list of changes: free text that may name people. */
interface ReportChanges {
  changes: { rows: ReadonlyArray<{ summary: string; actor: string; subject: string }> };
}

/** A function that returns a report summary with its changes' free text redacted. */
export function createReportSummaryRedactor(
  rules: RedactionRules,
): <S extends ReportChanges>(summary: S) => S {
  const redact = createRedactor(rules);
  return (summary) => ({
    ...summary,
    changes: {
      ...summary.changes,
      rows: summary.changes.rows.map((row) => ({
        ...row,
        ...(redact({ summary: row.summary, actor: row.actor, subject: row.subject }) as {
          summary: string;
          actor: string;
          subject: string;
        }),
      })),
    },
  });
}
