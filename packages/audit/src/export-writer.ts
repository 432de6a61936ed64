import type { KeyObject } from 'node:crypto';
import { canonicalize } from './canonical-json.js';
import { type ChainHead, GENESIS_HASH } from './chain.js';
import { type AuditDigest, digestHash } from './digest.js';
import { AuditError } from './errors.js';
import type { AuditEvent } from './event.js';
import { EXPORT_FORMAT, EXPORT_VERSION, type ExportHeader } from './export-header.js';
import { signRecord } from './signature.js';

export interface ExportInput {
  tenantId: string;
  periodStart: string;
  periodEnd: string;
  exportedAt: string;
  /** The seq of the first exported event; 1 exports from the start of the chain. */
  firstSeq: number;
  /**
   * The tenant's digests in chain order whose headSeq lies in [firstSeq - 1, last exported seq].
   * When firstSeq > 1 the first must have headSeq = firstSeq - 1 (the opening digest); the last
   * one's headSeq is the last exported seq (sign one on demand if the period ends now).
   */
  digests: readonly AuditDigest[];
  /** Events firstSeq .. digests[last].headSeq in seq order, e.g. streamed from the database. */
  events: AsyncIterable<AuditEvent> | Iterable<AuditEvent>;
  /** Signs the header; normally the same ed25519 key that signs digests. */
  signingKey: KeyObject | string;
}

/**
 * Writes a JSONL export as lines (without newlines; see withNewlines). Checks as it goes that
 * the events and digests link up, and throws AUDIT_EXPORT_INCONSISTENT otherwise, so write to a
 * temporary file and rename it once the generator finishes.
 */
export async function* writeExport(input: ExportInput): AsyncGenerator<string> {
  const { tenantId, firstSeq, digests } = input;
  const closing = digests.at(-1);
  if (closing === undefined) {
    throw inconsistent(
      'an export needs at least one digest covering its last event; sign one on demand',
    );
  }
  if (!Number.isSafeInteger(firstSeq) || firstSeq < 1) {
    throw inconsistent(`firstSeq must be a positive integer, got ${firstSeq}`);
  }
  const opening = digests[0]!;
  if (firstSeq > 1 && opening.headSeq !== firstSeq - 1) {
    throw inconsistent(
      `the first digest must cover seq ${firstSeq - 1} (the event before the export) so that the start is signed; start the export right after a digest`,
    );
  }
  const anchorHash = firstSeq === 1 ? GENESIS_HASH : opening.headHash;
  const lastSeq = closing.headSeq;
  if (lastSeq < firstSeq - 1) {
    throw inconsistent(`the last digest covers seq ${lastSeq}, before the export starts`);
  }
  const header: Omit<ExportHeader, 'algorithm' | 'keyId' | 'signature'> = {
    type: 'header',
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    tenantId,
    periodStart: input.periodStart,
    periodEnd: input.periodEnd,
    exportedAt: input.exportedAt,
    firstSeq,
    lastSeq,
    eventCount: lastSeq - firstSeq + 1,
    digestCount: digests.length,
    anchorHash,
    lastHash: closing.headHash,
  };
  yield canonicalize(signRecord(header, input.signingKey));

  let head: ChainHead = { tenantId, seq: firstSeq - 1, hash: anchorHash };
  let nextDigest = 0;
  let previousDigest: AuditDigest | undefined;
  // Emits every digest of the current head; they must come exactly here.
  function* digestsAtHead(): Generator<string> {
    while (nextDigest < digests.length && digests[nextDigest]!.headSeq === head.seq) {
      const digest = digests[nextDigest]!;
      if (digest.tenantId !== tenantId || digest.headHash !== head.hash) {
        throw inconsistent(`digest ${nextDigest} does not match the chain at seq ${head.seq}`);
      }
      if (
        previousDigest !== undefined &&
        digest.previousDigestHash !== digestHash(previousDigest)
      ) {
        throw inconsistent(`digest ${nextDigest} does not name the digest before it`);
      }
      previousDigest = digest;
      nextDigest++;
      yield canonicalize(digest);
    }
  }

  yield* digestsAtHead();
  for await (const event of input.events) {
    if (event.tenantId !== tenantId || event.seq !== head.seq + 1 || event.prevHash !== head.hash) {
      throw inconsistent(
        `event seq ${event.seq} (${event.id}) does not follow seq ${head.seq}: pass the events of one tenant in seq order without gaps`,
      );
    }
    if (event.seq > lastSeq) {
      throw inconsistent(`event seq ${event.seq} is past the last digest (seq ${lastSeq})`);
    }
    if (nextDigest < digests.length && digests[nextDigest]!.headSeq < event.seq) {
      throw inconsistent(
        `digest ${nextDigest} (headSeq ${digests[nextDigest]!.headSeq}) was skipped`,
      );
    }
    yield eventLine(event);
    head = { tenantId, seq: event.seq, hash: event.hash };
    yield* digestsAtHead();
  }
  if (head.seq !== lastSeq || nextDigest !== digests.length) {
    throw inconsistent(
      `the events stopped at seq ${head.seq} but the digests run to seq ${lastSeq}; pass every event up to the last digest`,
    );
  }
}

/** An event as an export line; undefined optional fields are left out, as when hashing. */
export function eventLine(event: AuditEvent): string {
  const record: Record<string, unknown> = { type: 'event', ...event };
  if (record.before === undefined) delete record.before;
  if (record.after === undefined) delete record.after;
  return canonicalize(record);
}

function inconsistent(message: string): AuditError {
  return new AuditError('AUDIT_EXPORT_INCONSISTENT', `Cannot write the audit export: ${message}.`);
}
