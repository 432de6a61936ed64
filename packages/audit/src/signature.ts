import { type KeyObject, sign, verify } from 'node:crypto';
import { canonicalize } from './canonical-json.js';
import { keyIdOf, type PublicKeyRing, toPrivateKey, toPublicKey } from './keys.js';

export interface SignatureFields {
  algorithm: 'ed25519';
  /** SHA-256 (hex) of the signer's SPKI DER public key. */
  keyId: string;
  /** base64 ed25519 signature over the canonical JSON of every other field. */
  signature: string;
}

/**
 * Signs the canonical JSON of `unsigned` plus algorithm and keyId. Every signed record type
 * carries a distinct `type` field, so a signature of one kind cannot pass as another.
 */
export function signRecord<T extends { type: string }>(
  unsigned: T,
  privateKey: KeyObject | string,
): T & SignatureFields {
  const key = toPrivateKey(privateKey);
  const withKey = { ...unsigned, algorithm: 'ed25519' as const, keyId: keyIdOf(toPublicKey(key)) };
  const signature = sign(null, Buffer.from(canonicalize(withKey), 'utf8'), key).toString('base64');
  return { ...withKey, signature };
}

export type SignatureProblem =
  | { code: 'UNKNOWN_KEY'; message: string }
  | { code: 'BAD_SIGNATURE'; message: string };

/** Checks a record signed by signRecord against the trusted keys; null when it is good. */
export function checkRecordSignature(
  record: Record<string, unknown>,
  keys: PublicKeyRing,
): SignatureProblem | null {
  const { signature, ...signed } = record;
  const keyId = record.keyId;
  if (
    record.algorithm !== 'ed25519' ||
    typeof keyId !== 'string' ||
    typeof signature !== 'string'
  ) {
    return { code: 'BAD_SIGNATURE', message: 'the record has no ed25519 signature and key id' };
  }
  // Only the exact base64 of 64 bytes: lenient decoding would let the signature text change
  // (and with it the digest's hash) while it still verifies.
  if (
    signature.length !== 88 ||
    Buffer.from(signature, 'base64').toString('base64') !== signature
  ) {
    return { code: 'BAD_SIGNATURE', message: 'its signature is not the base64 of 64 bytes' };
  }
  const key = keys.get(keyId);
  if (key === undefined) {
    return {
      code: 'UNKNOWN_KEY',
      message: `it is signed by key ${keyId}, which is not among the trusted public keys; pass that key's public PEM if you trust it`,
    };
  }
  let good = false;
  try {
    good = verify(
      null,
      Buffer.from(canonicalize(signed), 'utf8'),
      key,
      Buffer.from(signature, 'base64'),
    );
  } catch {
    good = false;
  }
  return good
    ? null
    : { code: 'BAD_SIGNATURE', message: 'its signature does not verify: it was changed or forged' };
}
