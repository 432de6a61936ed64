import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateSigningKeyPair, keyIdOf } from '@roster/audit';
import { describe, expect, it } from 'vitest';
import { loadOrCreateAuditSigningKey } from './signing-key.js';

describe('the audit signing key', () => {
  it('is generated once under ROSTER_HOME (0600, public key beside it) and reused after', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'roster-key-'));
    const first = await loadOrCreateAuditSigningKey({ ROSTER_HOME: home });
    const second = await loadOrCreateAuditSigningKey({ ROSTER_HOME: home });
    expect(second.keyId).toBe(first.keyId);
    expect((await stat(path.join(home, 'audit-signing.key'))).mode & 0o777).toBe(0o600);
    const pub = await readFile(path.join(home, 'audit-signing.pub'), 'utf8');
    expect(keyIdOf(pub)).toBe(first.keyId);
  });

  it('comes from ROSTER_AUDIT_SIGNING_KEY as a PEM or as a path to one', async () => {
    const pair = generateSigningKeyPair();
    const home = await mkdtemp(path.join(tmpdir(), 'roster-key-'));
    const fromPem = await loadOrCreateAuditSigningKey({
      ROSTER_HOME: home,
      ROSTER_AUDIT_SIGNING_KEY: pair.privateKeyPem,
    });
    expect(fromPem.keyId).toBe(pair.keyId);
    const file = path.join(home, 'mine.pem');
    await writeFile(file, pair.privateKeyPem);
    const fromPath = await loadOrCreateAuditSigningKey({
      ROSTER_HOME: home,
      ROSTER_AUDIT_SIGNING_KEY: file,
    });
    expect(fromPath).toMatchObject({ keyId: pair.keyId, source: file });
    await expect(stat(path.join(home, 'audit-signing.key'))).rejects.toThrow();
  });
});
