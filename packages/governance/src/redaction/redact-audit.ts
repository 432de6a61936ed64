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
