import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { PluginHostError } from '../errors.js';

/** AES-256-GCM output: a fresh 96-bit IV per message and the 128-bit tag beside the ciphertext. */
export interface Sealed {
  readonly ciphertext: Buffer;
  readonly iv: Buffer;
  readonly tag: Buffer;
}

export function seal(key: Buffer, plaintext: Buffer, aad: string): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, iv, tag: cipher.getAuthTag() };
}

/**
 * Throws DECRYPT_FAILED (never the key, plaintext or AAD values) when the tag does not verify:
 * a different key, a different AAD (another tenant, connection or key version) or altered bytes.
 */
export function open(key: Buffer, sealed: Sealed, aad: string, what: string): Buffer {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    throw new PluginHostError(
      'DECRYPT_FAILED',
      `${what} did not decrypt: it was sealed for another tenant, connection or key, or altered. Re-create it, or configure the master key it was wrapped with.`,
    );
  }
}

/** iv | tag | ciphertext in one buffer (how wrapped data keys are stored). */
export function packSealed(sealed: Sealed): Buffer {
  return Buffer.concat([sealed.iv, sealed.tag, sealed.ciphertext]);
}

export function unpackSealed(packed: Buffer): Sealed {
  return {
    iv: packed.subarray(0, 12),
    tag: packed.subarray(12, 28),
    ciphertext: packed.subarray(28),
  };
}
