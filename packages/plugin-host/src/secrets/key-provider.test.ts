import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLocalKeyProvider, masterKeyIdOf } from './key-provider.js';
import { redactSecrets } from './redact.js';

const masterKey = () => randomBytes(32).toString('base64');

describe('local key provider', () => {
  it('unwraps a data key only for the tenant and version it was wrapped for', async () => {
    const provider = createLocalKeyProvider({ masterKey: masterKey() });
    const dataKey = randomBytes(32);
    const wrapped = await provider.wrap(dataKey, { tenantId: 't-a', keyVersion: 1 });
    expect(wrapped.wrapped.includes(dataKey)).toBe(false);
    expect(await provider.unwrap(wrapped, { tenantId: 't-a', keyVersion: 1 })).toEqual(dataKey);
    await expect(
      provider.unwrap(wrapped, { tenantId: 't-b', keyVersion: 1 }),
    ).rejects.toMatchObject({
      code: 'DECRYPT_FAILED',
    });
    await expect(
      provider.unwrap(wrapped, { tenantId: 't-a', keyVersion: 2 }),
    ).rejects.toMatchObject({
      code: 'DECRYPT_FAILED',
    });
  });

  it('names master keys by fingerprint and unwraps with a previous key during rotation', async () => {
    const oldKey = masterKey();
    const old = createLocalKeyProvider({ masterKey: oldKey });
    expect(old.currentKeyId).toBe(masterKeyIdOf(Buffer.from(oldKey, 'base64')));
    expect(old.currentKeyId).not.toContain(oldKey.slice(0, 8));
    const wrapped = await old.wrap(randomBytes(32), { tenantId: 't', keyVersion: 1 });
    const next = createLocalKeyProvider({ masterKey: masterKey(), previousMasterKeys: [oldKey] });
    await expect(next.unwrap(wrapped, { tenantId: 't', keyVersion: 1 })).resolves.toHaveLength(32);
    const without = createLocalKeyProvider({ masterKey: masterKey() });
    await expect(without.unwrap(wrapped, { tenantId: 't', keyVersion: 1 })).rejects.toMatchObject({
      code: 'MASTER_KEY_INVALID',
    });
  });
});

describe('redactSecrets', () => {
  it('replaces every secret value in a message, longest first', () => {
    expect(
      redactSecrets('401 for token abcd1234 (again abcd1234), user abcd', {
        token: 'abcd1234',
        user: 'abcd',
      }),
    ).toBe('401 for token [redacted] (again [redacted]), user [redacted]');
    expect(redactSecrets('flag on', { enabled: 'on' })).toBe('flag on');
  });
});
