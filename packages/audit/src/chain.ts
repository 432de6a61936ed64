import { createHash } from 'node:crypto';
import { canonicalize } from './canonical-json.js';
import { AuditError } from './errors.js';
import {
  type AuditEvent,
  type AuditEventBody,
  type AuditEventDraft,
  assertValidDraft,
  isSha256Hex,
} from './event.js';

/** The prevHash of every tenant's first event (seq 1). */
export const GENESIS_HASH = '0'.repeat(64);

/** The newest event of a tenant's chain: all that appending needs to know. */
export interface ChainHead {
  tenantId: string;
  /** 0 for an empty chain. */
  seq: number;
  /** GENESIS_HASH for an empty chain. */
  hash: string;
}

export function genesisHead(tenantId: string): ChainHead {
  return { tenantId, seq: 0, hash: GENESIS_HASH };
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The hash of an event: SHA-256 (hex) of the canonical JSON of all its fields except `hash`,
 * with `prevHash` set to the given value. Optional fields that are undefined are left out.
 */
export function hashEvent(
  event: Omit<AuditEventBody, 'prevHash'> & { prevHash?: string; hash?: string },
  prevHash: string,
): string {
  return sha256Hex(canonicalize(bodyOf(event, prevHash)));
}

/** The body that is hashed, built field by field so that stray properties never count. */
function bodyOf(
  event: Omit<AuditEventBody, 'prevHash'>,
  prevHash: string,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: event.id,
    tenantId: event.tenantId,
    seq: event.seq,
    occurredAt: event.occurredAt,
    actor: { type: event.actor.type, id: event.actor.id },
    action: event.action,
    subject: { type: event.subject.type, id: event.subject.id },
    traceId: event.traceId,
    data: event.data,
    prevHash,
  };
  if (event.before !== undefined) body.before = event.before;
  if (event.after !== undefined) body.after = event.after;
  return body;
}

/**
 * Builds the next event of a tenant's chain. Pure: the caller persists the event and uses it
 * as the next head (in the database, under a per-tenant lock so that seq stays gapless).
 */
export function appendToChain(head: ChainHead, draft: AuditEventDraft): AuditEvent {
  assertValidDraft(draft);
  if (draft.tenantId !== head.tenantId) {
    throw new AuditError(
      'AUDIT_INVALID_EVENT',
      `Event ${draft.id} belongs to tenant ${draft.tenantId} but the chain head is tenant ${head.tenantId}; append it to its own tenant's chain.`,
      { eventId: draft.id, tenantId: draft.tenantId, headTenantId: head.tenantId },
    );
  }
  if (!Number.isSafeInteger(head.seq) || head.seq < 0 || !isSha256Hex(head.hash)) {
    throw new AuditError(
      'AUDIT_INVALID_EVENT',
      'The chain head needs a seq >= 0 and a 64-character hex hash; use genesisHead(tenantId) for an empty chain.',
      { head },
    );
  }
  const seq = head.seq + 1;
  const body = { ...draft, seq };
  // Canonicalize once here so that a non-JSON draft fails before anything is returned.
  const hash = hashEvent(body, head.hash);
  const event: AuditEvent = { ...body, prevHash: head.hash, hash };
  if (event.before === undefined) delete event.before;
  if (event.after === undefined) delete event.after;
  return event;
}

export function headOf(event: AuditEvent): ChainHead {
  return { tenantId: event.tenantId, seq: event.seq, hash: event.hash };
}

/** Why an event does not extend a chain head; codes match the export verifier's. */
export interface LinkProblem {
  code: 'TENANT_MISMATCH' | 'SEQ_NOT_CONTIGUOUS' | 'PREV_HASH_MISMATCH' | 'HASH_MISMATCH';
  message: string;
}

/**
 * Checks that `event` directly follows `head` and that its stored hash is right. Lets a
 * database-side checker walk a chain row by row without building an export.
 */
export function checkLink(
  head: ChainHead,
  event: AuditEvent,
  /** The event's hash if the caller already computed it (the export verifier does). */
  computedHash: string = hashEvent(event, event.prevHash),
): LinkProblem | null {
  if (event.tenantId !== head.tenantId) {
    return {
      code: 'TENANT_MISMATCH',
      message: `event ${event.id} belongs to tenant ${event.tenantId}, not ${head.tenantId}`,
    };
  }
  if (event.seq !== head.seq + 1) {
    return {
      code: 'SEQ_NOT_CONTIGUOUS',
      message: `expected seq ${head.seq + 1} after ${head.seq}, found seq ${event.seq}: an event is missing, duplicated or out of order`,
    };
  }
  if (computedHash !== event.hash) {
    return {
      code: 'HASH_MISMATCH',
      message: 'the stored hash does not match the event content: the event was changed',
    };
  }
  // Checked after the event's own hash: a self-consistent event whose link is wrong most
  // likely follows an event that was changed and re-hashed.
  if (event.prevHash !== head.hash) {
    return {
      code: 'PREV_HASH_MISMATCH',
      message: `the prevHash of seq ${event.seq} does not equal the hash of seq ${head.seq}: seq ${head.seq} was changed and re-hashed, or replaced`,
    };
  }
  return null;
}
