import { GENESIS_HASH } from './chain.js';
import { isIsoTimestamp, isSha256Hex } from './event.js';
import type { SignatureFields } from './signature.js';

export const EXPORT_FORMAT = 'roster-audit-export';
export const EXPORT_VERSION = 1;

/**
 * Line 1 of a JSONL export, signed like a digest so that its counts and bounds cannot be
 * edited to hide a truncated or shortened file.
 *
 * The lines after it: the opening digest(s) (headSeq = firstSeq - 1, required when firstSeq > 1,
 * so the anchor is signed), then every event in seq order, each followed by the digests whose
 * headSeq is that event's seq; the last line is a digest with headSeq = lastSeq.
 */
export interface ExportHeader extends SignatureFields {
  type: 'header';
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  tenantId: string;
  /** The period asked for, ISO 8601; the events cover it from digest to digest. */
  periodStart: string;
  periodEnd: string;
  exportedAt: string;
  firstSeq: number;
  /** firstSeq - 1 when the export holds no events. */
  lastSeq: number;
  eventCount: number;
  digestCount: number;
  /** prevHash of event firstSeq: GENESIS_HASH when firstSeq is 1, else the opening digest's headHash. */
  anchorHash: string;
  /** hash of event lastSeq (anchorHash when there are no events). */
  lastHash: string;
}

const HEADER_KEYS = new Set([
  'type',
  'format',
  'version',
  'tenantId',
  'periodStart',
  'periodEnd',
  'exportedAt',
  'firstSeq',
  'lastSeq',
  'eventCount',
  'digestCount',
  'anchorHash',
  'lastHash',
  'algorithm',
  'keyId',
  'signature',
]);

/** The first problem with an untrusted header's shape and internal consistency, or null. */
export function describeHeaderProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'the header must be a JSON object';
  }
  const h = value as Record<string, unknown>;
  if (h.type !== 'header' || h.format !== EXPORT_FORMAT) {
    return `line 1 must be the ${EXPORT_FORMAT} header`;
  }
  if (h.version !== EXPORT_VERSION) {
    return `export version ${String(h.version)} is not supported; this verifier reads version ${EXPORT_VERSION}`;
  }
  for (const key of Object.keys(h)) {
    if (!HEADER_KEYS.has(key)) return `unknown header field "${key}"`;
  }
  if (typeof h.tenantId !== 'string' || h.tenantId.length === 0) return 'tenantId is required';
  for (const name of ['periodStart', 'periodEnd', 'exportedAt'] as const) {
    if (!isIsoTimestamp(h[name])) return `${name} must be an ISO 8601 timestamp with a zone`;
  }
  const { firstSeq, lastSeq, eventCount, digestCount } = h;
  if (!isCount(firstSeq) || firstSeq < 1) return 'firstSeq must be a positive integer';
  if (!isCount(lastSeq) || lastSeq < firstSeq - 1) return 'lastSeq must be >= firstSeq - 1';
  if (eventCount !== lastSeq - firstSeq + 1) return 'eventCount must equal lastSeq - firstSeq + 1';
  if (!isCount(digestCount) || digestCount < 1) return 'digestCount must be at least 1';
  if (!isSha256Hex(h.anchorHash) || !isSha256Hex(h.lastHash)) {
    return 'anchorHash and lastHash must be 64 lowercase hex characters';
  }
  if (firstSeq === 1 && h.anchorHash !== GENESIS_HASH) {
    return 'an export starting at seq 1 has anchorHash GENESIS_HASH';
  }
  if (eventCount === 0 && h.lastHash !== h.anchorHash) {
    return 'an export without events has lastHash equal to anchorHash';
  }
  return null;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
