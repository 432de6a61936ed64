import { canonicalize, canonicalizeParsed, type JsonValue } from './canonical-json.js';
import { type ChainHead, checkLink, type LinkProblem, sha256Hex } from './chain.js';
import { type AuditDigest, digestHash, verifyDigest } from './digest.js';
import { type AuditEvent, describeEventProblem } from './event.js';
import { describeHeaderProblem, type ExportHeader } from './export-header.js';
import { createPublicKeyRing, type PublicKeyInput, type PublicKeyRing } from './keys.js';
import { checkRecordSignature } from './signature.js';

export type VerifyFailureCode =
  | 'MALFORMED_LINE'
  | 'NON_CANONICAL_LINE'
  | 'INVALID_HEADER'
  | 'UNKNOWN_KEY'
  | 'BAD_SIGNATURE'
  | 'INVALID_EVENT'
  | 'INVALID_DIGEST'
  | 'TENANT_MISMATCH'
  | 'SEQ_NOT_CONTIGUOUS'
  | 'PREV_HASH_MISMATCH'
  | 'HASH_MISMATCH'
  | 'LAST_HASH_MISMATCH'
  | 'MISSING_OPENING_DIGEST'
  | 'DIGEST_HEAD_MISMATCH'
  | 'DIGEST_CHAIN_BROKEN'
  | 'UNEXPECTED_RECORD'
  | 'TRUNCATED';

export interface VerifyFailure {
  code: VerifyFailureCode;
  /** 1-based line of the export where verification failed. */
  line: number;
  /** The first event that could not be verified (null when the failure is not about events). */
  seq: number | null;
  eventId: string | null;
  message: string;
}

export interface VerifiedExport {
  ok: true;
  tenantId: string;
  periodStart: string;
  periodEnd: string;
  firstSeq: number;
  lastSeq: number;
  lastHash: string;
  events: number;
  digests: number;
  /** The keys that signed the header and digests. */
  keyIds: string[];
}

export type VerifyResult = VerifiedExport | { ok: false; failure: VerifyFailure };

/**
 * Verifies a JSONL export offline, line by line in constant memory, and stops at the first
 * failure. Accepts lines with or without a trailing "\r"; blank lines are allowed only at the end.
 */
export async function verifyExport(
  lines: AsyncIterable<string> | Iterable<string>,
  publicKeys: PublicKeyRing | Iterable<PublicKeyInput>,
): Promise<VerifyResult> {
  const verifier = new ExportVerifier(publicKeys);
  for await (const line of lines) {
    const failure = verifier.push(line);
    if (failure !== null) return { ok: false, failure };
  }
  return verifier.finish();
}

export interface ExportVerifierOptions {
  /**
   * Called with each event once its own line checks out (shape, hash, link). A later digest
   * or the end of the file can still fail verification: use the events only if finish() is ok.
   */
  onEvent?: (event: AuditEvent, line: number) => void;
}

/** The streaming state machine behind verifyExport, for callers that push lines themselves. */
export class ExportVerifier {
  private readonly keys: PublicKeyRing;
  private readonly keyIds = new Set<string>();
  private lineNo = 0;
  private blankSince = 0;
  private header: ExportHeader | null = null;
  private head: ChainHead = { tenantId: '', seq: 0, hash: '' };
  /** The id of the head event, when it is in this export. */
  private headEventId: string | null = null;
  private events = 0;
  private digests = 0;
  private previousDigest: AuditDigest | null = null;
  private lastRecord: 'header' | 'event' | 'digest' = 'header';
  /** The first event not yet covered by a verified digest: what a head mismatch blames. */
  private unsigned: { seq: number; id: string } | null = null;
  private failed: VerifyFailure | null = null;

  private readonly onEventHook: ((event: AuditEvent, line: number) => void) | undefined;

  constructor(
    publicKeys: PublicKeyRing | Iterable<PublicKeyInput>,
    options: ExportVerifierOptions = {},
  ) {
    this.keys = createPublicKeyRing(publicKeys);
    this.onEventHook = options.onEvent;
  }

  push(rawLine: string): VerifyFailure | null {
    if (this.failed !== null) return this.failed;
    this.lineNo++;
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.length === 0) {
      if (this.blankSince === 0) this.blankSince = this.lineNo;
      return null;
    }
    if (this.blankSince !== 0) {
      return this.fail(
        'MALFORMED_LINE',
        'blank line inside the export',
        undefined,
        this.blankSince,
      );
    }
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      return this.fail('MALFORMED_LINE', 'the line is not JSON (was the file cut or edited?)');
    }
    const type = (record as { type?: unknown } | null)?.type;
    if (this.header === null) return this.onHeader(record, line);
    if (type === 'event') return this.onEvent(record as Record<string, unknown>, line);
    if (type === 'digest') return this.onDigest(record, line);
    return this.fail(
      'UNEXPECTED_RECORD',
      `unexpected record type ${JSON.stringify(type)} after the header`,
    );
  }

  finish(): VerifyResult {
    if (this.failed !== null) return { ok: false, failure: this.failed };
    const header = this.header;
    const end = this.blankSince === 0 ? this.lineNo + 1 : this.blankSince;
    if (header === null) {
      return this.failResult('TRUNCATED', 'the export is empty; line 1 must be the header', end);
    }
    if (this.events < header.eventCount) {
      const seq = this.head.seq + 1;
      this.failed = {
        code: 'TRUNCATED',
        line: end,
        seq,
        eventId: null,
        message: `the export ends after seq ${this.head.seq} but its header promises events up to seq ${header.lastSeq}: seq ${seq} onwards is missing`,
      };
      return { ok: false, failure: this.failed };
    }
    if (this.lastRecord !== 'digest' || this.digests !== header.digestCount) {
      return this.failResult(
        'TRUNCATED',
        `the export must end with its digests (header promises ${header.digestCount}, found ${this.digests}): the end of the file is missing`,
        end,
      );
    }
    return {
      ok: true,
      tenantId: header.tenantId,
      periodStart: header.periodStart,
      periodEnd: header.periodEnd,
      firstSeq: header.firstSeq,
      lastSeq: header.lastSeq,
      lastHash: header.lastHash,
      events: this.events,
      digests: this.digests,
      keyIds: [...this.keyIds],
    };
  }

  private onHeader(record: unknown, line: string): VerifyFailure | null {
    const problem = describeHeaderProblem(record);
    if (problem !== null) return this.fail('INVALID_HEADER', problem);
    if (canonicalize(record) !== line) return this.nonCanonical(null);
    const header = record as ExportHeader;
    const signature = checkRecordSignature(header as unknown as Record<string, unknown>, this.keys);
    if (signature !== null) return this.fail(signature.code, `the header ${signature.message}`);
    this.keyIds.add(header.keyId);
    this.header = header;
    this.head = { tenantId: header.tenantId, seq: header.firstSeq - 1, hash: header.anchorHash };
    return null;
  }

  private onEvent(record: Record<string, unknown>, line: string): VerifyFailure | null {
    const header = this.header!;
    const { type: _type, ...fields } = record;
    const seq = Number.isSafeInteger(fields.seq) ? (fields.seq as number) : null;
    const id = typeof fields.id === 'string' ? fields.id : null;
    const problem = describeEventProblem(fields, { draft: false });
    if (problem !== null) return this.fail('INVALID_EVENT', problem, { seq, eventId: id });
    if (canonicalizeParsed(record as JsonValue) !== line) {
      return this.nonCanonical({ seq, eventId: id });
    }
    const event = fields as unknown as AuditEvent;
    // The line is canonical, so its keys are in order and plain JSON.stringify of the body
    // (validated to hold only event fields) is the canonical JSON that was hashed.
    const { hash: _hash, ...body } = fields;
    const computedHash = sha256Hex(JSON.stringify(body));
    if (this.events === 0 && header.firstSeq > 1 && this.digests === 0) {
      return this.fail(
        'MISSING_OPENING_DIGEST',
        `no digest covers seq ${header.firstSeq - 1}, so the export's starting point is not signed`,
        { seq, eventId: id },
      );
    }
    if (this.events === header.eventCount) {
      return this.fail(
        'UNEXPECTED_RECORD',
        `the header promises events up to seq ${header.lastSeq}; this event is extra`,
        { seq, eventId: id },
      );
    }
    const link = checkLink(this.head, event, computedHash);
    if (link !== null) return this.fail(link.code, link.message, this.blameLink(link.code, event));
    if (event.seq === header.lastSeq && event.hash !== header.lastHash) {
      const from = this.unsigned ?? { seq: event.seq, id: event.id };
      return this.fail(
        'LAST_HASH_MISMATCH',
        `the last event does not have the hash the signed header names: the events since the last digest (seq ${from.seq}..${event.seq}) were rewritten`,
        { seq: from.seq, eventId: from.id },
      );
    }
    this.events++;
    this.head = { tenantId: header.tenantId, seq: event.seq, hash: event.hash };
    this.headEventId = event.id;
    this.unsigned ??= { seq: event.seq, id: event.id };
    this.lastRecord = 'event';
    this.onEventHook?.(event, this.lineNo);
    return null;
  }

  private onDigest(record: unknown, line: string): VerifyFailure | null {
    const header = this.header!;
    const check = verifyDigest(record, this.keys);
    if (!check.ok) {
      const code = check.code === 'INVALID_DIGEST' ? 'INVALID_DIGEST' : check.code;
      return this.fail(code, `digest: ${check.message}`, this.blame());
    }
    if (canonicalize(record) !== line) return this.nonCanonical(this.blame());
    const digest = record as AuditDigest;
    if (digest.tenantId !== header.tenantId) {
      return this.fail(
        'TENANT_MISMATCH',
        `the digest belongs to tenant ${digest.tenantId}, not ${header.tenantId}`,
        this.blame(),
      );
    }
    if (digest.headSeq !== this.head.seq || digest.headHash !== this.head.hash) {
      const unsigned = this.unsigned;
      const range = unsigned === null ? '' : ` (events seq ${unsigned.seq}..${this.head.seq})`;
      const what =
        digest.headSeq > this.head.seq
          ? `events seq ${this.head.seq + 1}..${digest.headSeq} are missing`
          : `the events since the previous digest${range} were changed, added, removed or reordered`;
      return this.fail(
        'DIGEST_HEAD_MISMATCH',
        `the signed digest names head seq ${digest.headSeq}, but the events before it end at seq ${this.head.seq}${digest.headSeq === this.head.seq ? ' with another hash' : ''}: ${what}`,
        // Nothing unsigned means the event the digest vouches for is the one missing.
        digest.headSeq > this.head.seq ? { seq: this.head.seq + 1, eventId: null } : this.blame(),
      );
    }
    if (this.previousDigest !== null) {
      if (digest.previousDigestHash !== digestHash(this.previousDigest)) {
        return this.fail(
          'DIGEST_CHAIN_BROKEN',
          'the digest does not name the digest before it: a digest was removed, reordered or replaced',
          this.blame(),
        );
      }
    }
    if (this.digests === header.digestCount) {
      return this.fail(
        'UNEXPECTED_RECORD',
        `the header promises ${header.digestCount} digests; this one is extra`,
      );
    }
    this.keyIds.add(digest.keyId);
    this.previousDigest = digest;
    this.digests++;
    this.unsigned = null;
    this.lastRecord = 'digest';
    return null;
  }

  /** Who a broken link names: the earliest event that can explain it. */
  private blameLink(
    code: LinkProblem['code'],
    event: AuditEvent,
  ): { seq: number | null; eventId: string | null } {
    if (code === 'SEQ_NOT_CONTIGUOUS' && event.seq > this.head.seq + 1) {
      return { seq: this.head.seq + 1, eventId: null }; // the first missing event
    }
    if (code === 'PREV_HASH_MISMATCH' && this.headEventId !== null) {
      return { seq: this.head.seq, eventId: this.headEventId };
    }
    return { seq: event.seq, eventId: event.id };
  }

  /** Who a digest-level failure names: the first event the digest should have vouched for. */
  private blame(): { seq: number | null; eventId: string | null } {
    return this.unsigned === null
      ? { seq: null, eventId: null }
      : { seq: this.unsigned.seq, eventId: this.unsigned.id };
  }

  private nonCanonical(at: { seq: number | null; eventId: string | null } | null): VerifyFailure {
    return this.fail(
      'NON_CANONICAL_LINE',
      'the line is not in canonical JSON form (RFC 8785) as written by the exporter: it was edited or re-encoded',
      at ?? undefined,
    );
  }

  private fail(
    code: VerifyFailureCode,
    message: string,
    at?: { seq: number | null; eventId: string | null },
    line = this.lineNo,
  ): VerifyFailure {
    this.failed = { code, line, seq: at?.seq ?? null, eventId: at?.eventId ?? null, message };
    return this.failed;
  }

  private failResult(code: VerifyFailureCode, message: string, line: number): VerifyResult {
    return { ok: false, failure: this.fail(code, message, undefined, line) };
  }
}
