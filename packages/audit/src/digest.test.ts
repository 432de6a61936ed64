import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH } from './chain.js';
import { type DigestFields, digestHash, signDigest, verifyDigest } from './digest.js';
import { createPublicKeyRing, generateSigningKeyPair, keyIdOf } from './keys.js';

const fields: DigestFields = {
  tenantId: 'tenant-a',
  headSeq: 42,
  headHash: 'ab'.repeat(32),
  previousDigestHash: null,
  periodStart: '2025-03-01T10:00:00.000Z',
  periodEnd: '2025-03-01T11:00:00.000Z',
  signedAt: '2025-03-01T11:00:00.120Z',
};

describe('signed digests', () => {
  const pair = generateSigningKeyPair();
  const ring = createPublicKeyRing([pair.publicKeyPem]);

  it('names keys by the SHA-256 of their SPKI DER', () => {
    const der = generateKeyPairSync('ed25519').publicKey;
    const expected = createHash('sha256')
      .update(der.export({ type: 'spki', format: 'der' }))
      .digest('hex');
    expect(keyIdOf(der)).toBe(expected);
    expect(keyIdOf(pair.publicKeyPem)).toBe(pair.keyId);
    expect(keyIdOf(pair.privateKeyPem)).toBe(pair.keyId);
  });

  it('verifies a digest signed with the matching key', () => {
    const digest = signDigest(fields, pair.privateKeyPem);
    expect(digest).toMatchObject({ type: 'digest', version: 1, keyId: pair.keyId, headSeq: 42 });
    expect(verifyDigest(digest, ring)).toEqual({ ok: true });
    expect(verifyDigest(JSON.parse(JSON.stringify(digest)), ring)).toEqual({ ok: true });
  });

  it('rejects a digest whose fields were changed after signing', () => {
    const digest = signDigest(fields, pair.privateKeyPem);
    for (const changed of [
      { ...digest, headSeq: 43 },
      { ...digest, headHash: 'cd'.repeat(32) },
      { ...digest, tenantId: 'tenant-b' },
      { ...digest, previousDigestHash: 'ef'.repeat(32) },
    ]) {
      expect(verifyDigest(changed, ring)).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    }
  });

  it('rejects a signature text that only decodes to the same bytes', () => {
    const digest = signDigest(fields, pair.privateKeyPem);
    expect(verifyDigest({ ...digest, signature: `${digest.signature}x` }, ring)).toMatchObject({
      ok: false,
      code: 'BAD_SIGNATURE',
    });
  });

  it('rejects a digest signed by a key that is not trusted', () => {
    const other = generateSigningKeyPair();
    const forged = signDigest(fields, other.privateKeyPem);
    expect(verifyDigest(forged, ring)).toMatchObject({ ok: false, code: 'UNKNOWN_KEY' });
    // Claiming the trusted key id does not help the forger.
    expect(verifyDigest({ ...forged, keyId: pair.keyId }, ring)).toMatchObject({
      ok: false,
      code: 'BAD_SIGNATURE',
    });
  });

  it('trusts every key of a ring, so keys can rotate', () => {
    const next = generateSigningKeyPair();
    const both = createPublicKeyRing([pair.publicKeyPem, next.publicKeyPem]);
    expect(verifyDigest(signDigest(fields, pair.privateKeyPem), both).ok).toBe(true);
    expect(verifyDigest(signDigest(fields, next.privateKeyPem), both).ok).toBe(true);
  });

  it('chains digests through digestHash', () => {
    const first = signDigest(fields, pair.privateKeyPem);
    const second = signDigest(
      { ...fields, headSeq: 50, previousDigestHash: digestHash(first) },
      pair.privateKeyPem,
    );
    expect(second.previousDigestHash).toBe(digestHash(first));
    expect(digestHash(first)).not.toBe(digestHash(second));
  });

  it.each([
    ['a negative headSeq', { headSeq: -1 }],
    ['an empty chain with a non-genesis hash', { headSeq: 0 }],
    ['a short headHash', { headHash: 'abc' }],
    ['a period that ends before it starts', { periodEnd: '2025-03-01T09:00:00.000Z' }],
    ['a timestamp without a zone', { signedAt: '2025-03-01 11:00' }],
  ])('refuses to sign %s', (_name, overrides) => {
    expect(() => signDigest({ ...fields, ...overrides }, pair.privateKeyPem)).toThrowError(
      expect.objectContaining({ code: 'AUDIT_INVALID_DIGEST' }),
    );
  });

  it('signs an empty chain at the genesis hash', () => {
    const digest = signDigest(
      { ...fields, headSeq: 0, headHash: GENESIS_HASH },
      pair.privateKeyPem,
    );
    expect(verifyDigest(digest, ring).ok).toBe(true);
  });

  it('refuses keys that are not ed25519', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => signDigest(fields, rsa.privateKey)).toThrowError(
      expect.objectContaining({ code: 'AUDIT_INVALID_KEY' }),
    );
    expect(() => createPublicKeyRing([rsa.publicKey])).toThrowError(
      expect.objectContaining({ code: 'AUDIT_INVALID_KEY' }),
    );
    expect(() => createPublicKeyRing(['not a pem'])).toThrowError(
      expect.objectContaining({ code: 'AUDIT_INVALID_KEY' }),
    );
  });
});
