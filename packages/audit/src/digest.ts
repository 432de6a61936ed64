import type { KeyObject } from 'node:crypto';
import { canonicalize } from './canonical-json.js';
import { GENESIS_HASH, sha256Hex } from './chain.js';
import { AuditError } from './errors.js';
import { isIsoTimestamp, isSha256Hex } from './event.js';
import type { PublicKeyRing } from './keys.js';
import { checkRecordSignature, type SignatureFields, signRecord } from './signature.js';

/**
 * What a digest states: at `signedAt`, tenant `tenantId`'s chain ended at `headSeq` with
 * `headHash`. Each digest names the hash of the tenant's previous digest, so digests form a
 * chain of their own (CloudTrail's design): dropping or replacing one breaks the next.
 */
export interface DigestFields {
  tenantId: string;
  /** The seq of the chain head; 0 when the tenant has no events yet. */
  headSeq: number;
  /** The hash of the head event; GENESIS_HASH when headSeq is 0. */
  headHash: string;
  /** digestHash() of the tenant's previous digest; null for the tenant's first digest. */
  previousDigestHash: string | null;
  /** The period this digest closes (normally one hour), ISO 8601. */
  periodStart: string;
  periodEnd: string;
  signedAt: string;
}

export interface AuditDigest extends DigestFields, SignatureFields {
  type: 'digest';
  version: 1;
}

const DIGEST_KEYS = new Set([
  'type',
  'version',
  'tenantId',
  'headSeq',
  'headHash',
  'previousDigestHash',
  'periodStart',
  'periodEnd',
  'signedAt',
  'algorithm',
  'keyId',
  'signature',
]);

/** Signs a digest of a chain head with an ed25519 private key (KeyObject or PKCS#8 PEM). */
export function signDigest(fields: DigestFields, privateKey: KeyObject | string): AuditDigest {
  const problem = describeDigestFieldsProblem(fields);
  if (problem !== null) {
    throw new AuditError('AUDIT_INVALID_DIGEST', `Cannot sign digest: ${problem}.`, {
      tenantId: fields.tenantId,
      headSeq: fields.headSeq,
    });
  }
  return signRecord(
    {
      type: 'digest' as const,
      version: 1 as const,
      tenantId: fields.tenantId,
      headSeq: fields.headSeq,
      headHash: fields.headHash,
      previousDigestHash: fields.previousDigestHash,
      periodStart: fields.periodStart,
      periodEnd: fields.periodEnd,
      signedAt: fields.signedAt,
    },
    privateKey,
  );
}

/** The hash the next digest names as previousDigestHash: SHA-256 of the signed digest's JCS. */
export function digestHash(digest: AuditDigest): string {
  return sha256Hex(canonicalize(digest));
}

export type DigestCheck =
  | { ok: true }
  | { ok: false; code: 'INVALID_DIGEST' | 'UNKNOWN_KEY' | 'BAD_SIGNATURE'; message: string };

/** Checks a digest's shape and signature against the trusted keys (see createPublicKeyRing). */
export function verifyDigest(digest: unknown, keys: PublicKeyRing): DigestCheck {
  const problem = describeDigestProblem(digest);
  if (problem !== null) return { ok: false, code: 'INVALID_DIGEST', message: problem };
  const signatureProblem = checkRecordSignature(digest as Record<string, unknown>, keys);
  if (signatureProblem !== null) return { ok: false, ...signatureProblem };
  return { ok: true };
}

/** The first problem with an untrusted digest record's shape, or null. */
export function describeDigestProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'a digest must be a JSON object';
  }
  const d = value as Record<string, unknown>;
  for (const key of Object.keys(d)) {
    if (!DIGEST_KEYS.has(key)) return `unknown digest field "${key}"`;
  }
  if (d.type !== 'digest' || d.version !== 1) return 'not a version 1 digest';
  if (typeof d.keyId !== 'string' || typeof d.signature !== 'string') {
    return 'a digest needs keyId and signature';
  }
  return describeDigestFieldsProblem(d as unknown as DigestFields);
}

function describeDigestFieldsProblem(f: DigestFields): string | null {
  if (typeof f.tenantId !== 'string' || f.tenantId.length === 0) return 'tenantId is required';
  if (!Number.isSafeInteger(f.headSeq) || f.headSeq < 0) return 'headSeq must be an integer >= 0';
  if (!isSha256Hex(f.headHash)) return 'headHash must be 64 lowercase hex characters';
  if (f.headSeq === 0 && f.headHash !== GENESIS_HASH) {
    return 'an empty chain (headSeq 0) has headHash GENESIS_HASH';
  }
  if (f.previousDigestHash !== null && !isSha256Hex(f.previousDigestHash)) {
    return 'previousDigestHash must be null or 64 lowercase hex characters';
  }
  for (const name of ['periodStart', 'periodEnd', 'signedAt'] as const) {
    if (!isIsoTimestamp(f[name])) return `${name} must be an ISO 8601 timestamp with a zone`;
  }
  if (Date.parse(f.periodStart) > Date.parse(f.periodEnd)) {
    return 'periodStart must not be after periodEnd';
  }
  return null;
}
