import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { AuditError } from './errors.js';

export interface SigningKeyPair {
  /** PKCS#8 PEM. Keep it secret: whoever holds it can forge digests. */
  privateKeyPem: string;
  /** SPKI PEM: hand it to whoever verifies exports. */
  publicKeyPem: string;
  keyId: string;
}

/** A new ed25519 key pair for signing digests. */
export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

/** The key id: SHA-256 (hex) of the public key's SPKI DER encoding. */
export function keyIdOf(key: KeyObject | string): string {
  const publicKey = toPublicKey(key);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}

/** Accepts a private KeyObject or PKCS#8 PEM; refuses anything but ed25519. */
export function toPrivateKey(key: KeyObject | string): KeyObject {
  let object: KeyObject;
  try {
    object = typeof key === 'string' ? createPrivateKey(key) : key;
  } catch (cause) {
    throw new AuditError(
      'AUDIT_INVALID_KEY',
      'The signing key is not a readable private key; pass the PKCS#8 PEM from generateSigningKeyPair().',
      undefined,
      { cause },
    );
  }
  if (object.type !== 'private' || object.asymmetricKeyType !== 'ed25519') {
    throw new AuditError(
      'AUDIT_INVALID_KEY',
      `The signing key must be an ed25519 private key, got a ${object.asymmetricKeyType ?? 'symmetric'} ${object.type} key.`,
    );
  }
  return object;
}

/** Accepts a public or private KeyObject, SPKI PEM or a private PEM; refuses anything but ed25519. */
export function toPublicKey(key: KeyObject | string): KeyObject {
  let object: KeyObject;
  try {
    object = typeof key !== 'string' && key.type === 'public' ? key : createPublicKey(key);
  } catch (cause) {
    throw new AuditError(
      'AUDIT_INVALID_KEY',
      'The public key is not readable; pass the SPKI PEM ("-----BEGIN PUBLIC KEY-----") of the signing key.',
      undefined,
      { cause },
    );
  }
  if (object.asymmetricKeyType !== 'ed25519') {
    throw new AuditError(
      'AUDIT_INVALID_KEY',
      `Audit digests are signed with ed25519; this is a ${object.asymmetricKeyType} key.`,
    );
  }
  return object;
}

/** Public keys by key id: what verification trusts. Several keys allow rotation. */
export type PublicKeyRing = ReadonlyMap<string, KeyObject>;

export function createPublicKeyRing(
  keys: Iterable<KeyObject | string> | PublicKeyRing,
): PublicKeyRing {
  if (keys instanceof Map) return keys as PublicKeyRing;
  const ring = new Map<string, KeyObject>();
  for (const key of keys as Iterable<KeyObject | string>) {
    const publicKey = toPublicKey(key);
    ring.set(keyIdOf(publicKey), publicKey);
  }
  return ring;
}

/** A public key as PEM (SPKI) or KeyObject. */
export type PublicKeyInput = KeyObject | string;
