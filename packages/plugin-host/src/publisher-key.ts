import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { PluginHostError } from './errors.js';

/** What a host trusts: one publisher's ed25519 public key. Safe to publish. */
export interface PublisherPublicKey {
  /** Marketplace publisher name, e.g. `roster` or `acme`. */
  readonly publisher: string;
  /** `ed25519:` + the first 16 hex digits of the SHA-256 of the public key (SPKI DER). */
  readonly keyId: string;
  readonly algorithm: 'ed25519';
  /** SPKI DER, base64. */
  readonly publicKey: string;
}

/** The publisher's signing key. Keep it secret (the CLI writes it with mode 0600). */
export interface PublisherPrivateKey extends PublisherPublicKey {
  /** PKCS#8 DER, base64. */
  readonly privateKey: string;
}

const PUBLISHER = /^[a-z][a-z0-9-]{0,63}$/;

function keyIdOf(spki: Buffer): string {
  return `ed25519:${createHash('sha256').update(spki).digest('hex').slice(0, 16)}`;
}

export function generatePublisherKey(publisher: string): PublisherPrivateKey {
  if (!PUBLISHER.test(publisher)) {
    throw new PluginHostError(
      'INVALID_KEY',
      `Publisher "${publisher}" must match ${PUBLISHER} (lower-case, e.g. "acme").`,
      { publisher },
    );
  }
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    publisher,
    keyId: keyIdOf(spki),
    algorithm: 'ed25519',
    publicKey: spki.toString('base64'),
    privateKey: privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
  };
}

/** The part of a key pair that hosts are given to trust. */
export function publicKeyOf(key: PublisherPublicKey): PublisherPublicKey {
  return {
    publisher: key.publisher,
    keyId: key.keyId,
    algorithm: key.algorithm,
    publicKey: key.publicKey,
  };
}

function invalidKey(message: string, cause?: unknown): PluginHostError {
  return new PluginHostError('INVALID_KEY', message, {}, { cause });
}

/** Checks a key file's fields (and that the key id matches the key) before it is used. */
export function parsePublisherKey(data: unknown, kind: 'public'): PublisherPublicKey;
export function parsePublisherKey(data: unknown, kind: 'private'): PublisherPrivateKey;
export function parsePublisherKey(
  data: unknown,
  kind: 'public' | 'private',
): PublisherPublicKey | PublisherPrivateKey {
  const record = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const { publisher, keyId, algorithm, publicKey, privateKey } = record;
  if (
    typeof publisher !== 'string' ||
    !PUBLISHER.test(publisher) ||
    typeof keyId !== 'string' ||
    algorithm !== 'ed25519' ||
    typeof publicKey !== 'string' ||
    (kind === 'private' && typeof privateKey !== 'string')
  ) {
    throw invalidKey(
      `This is not a Roster ${kind} publisher key: expected publisher, keyId, algorithm "ed25519", publicKey${kind === 'private' ? ' and privateKey' : ''} (make one with \`roster plugin keygen\`).`,
    );
  }
  try {
    const spki = createPublicKey({
      key: Buffer.from(publicKey, 'base64'),
      format: 'der',
      type: 'spki',
    }).export({ type: 'spki', format: 'der' });
    if (keyIdOf(spki) !== keyId) throw invalidKey(`keyId ${keyId} does not match the public key.`);
    if (kind === 'private') {
      const derived = createPublicKey(
        createPrivateKey({
          key: Buffer.from(privateKey as string, 'base64'),
          format: 'der',
          type: 'pkcs8',
        }),
      ).export({ type: 'spki', format: 'der' });
      if (!derived.equals(spki)) throw invalidKey('The private key does not belong to publicKey.');
    }
  } catch (error) {
    if (error instanceof PluginHostError) throw error;
    throw invalidKey(`The key material is not a valid ed25519 key: ${String(error)}`, error);
  }
  return kind === 'private'
    ? ({
        ...publicKeyOf(record as unknown as PublisherPublicKey),
        privateKey,
      } as PublisherPrivateKey)
    : publicKeyOf(record as unknown as PublisherPublicKey);
}

/** A publisher's public key from its base64 SPKI DER (as registered in the marketplace). */
export function publisherKeyFromSpki(publisher: string, publicKey: string): PublisherPublicKey {
  let spki: Buffer;
  try {
    spki = createPublicKey({
      key: Buffer.from(publicKey, 'base64'),
      format: 'der',
      type: 'spki',
    }).export({ type: 'spki', format: 'der' });
  } catch (error) {
    throw invalidKey(
      'publicKey is not a base64 ed25519 SPKI key: pass the "publicKey" field of the .pub.json file from `roster plugin keygen`.',
      error,
    );
  }
  return parsePublisherKey(
    { publisher, keyId: keyIdOf(spki), algorithm: 'ed25519', publicKey: spki.toString('base64') },
    'public',
  );
}
