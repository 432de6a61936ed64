import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateSigningKeyPair } from '@roster/audit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPublicKeys } from './public-keys.js';
import { UsageError } from './usage-error.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'roster-audit-keys-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readPublicKeys', () => {
  it('reads several PEM files into one key ring by key id', async () => {
    const [a, b] = [generateSigningKeyPair(), generateSigningKeyPair()];
    await writeFile(path.join(dir, 'a.pub'), a.publicKeyPem);
    await writeFile(path.join(dir, 'b.pub'), b.publicKeyPem);
    const ring = await readPublicKeys([path.join(dir, 'a.pub'), path.join(dir, 'b.pub')]);
    expect([...ring.keys()].sort()).toEqual([a.keyId, b.keyId].sort());
  });

  it('blames --public-key for a file that is not an ed25519 public key', async () => {
    await writeFile(path.join(dir, 'not-a-key.pub'), '{"type":"header"}\n');
    const error = await readPublicKeys([path.join(dir, 'not-a-key.pub')]).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ argument: '--public-key' });
    expect((error as Error).message).toContain('SPKI PEM');
  });

  it('asks for at least one key', async () => {
    await expect(readPublicKeys([])).rejects.toMatchObject({ argument: '--public-key' });
  });
});
