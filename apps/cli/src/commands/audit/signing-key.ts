import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateSigningKeyPair, keyIdOf } from '@roster/audit';
import type { Config } from '@roster/config';

export interface AuditSigningKey {
  privateKeyPem: string;
  keyId: string;
  /** Where the key came from, for messages (never the key itself). */
  source: string;
}

/**
 * The key that signs audit digests: ROSTER_AUDIT_SIGNING_KEY (a PEM, or a path to one), else
 * ROSTER_HOME/audit-signing.key, generated on first use (0600) with its public key beside it
 * (audit-signing.pub, what `roster audit verify --public-key` takes).
 */
export async function loadOrCreateAuditSigningKey(
  config: Pick<Config, 'ROSTER_AUDIT_SIGNING_KEY' | 'ROSTER_HOME'>,
): Promise<AuditSigningKey> {
  const configured = config.ROSTER_AUDIT_SIGNING_KEY;
  if (configured?.trimStart().startsWith('-----BEGIN')) {
    return {
      privateKeyPem: configured,
      keyId: keyIdOf(configured),
      source: 'ROSTER_AUDIT_SIGNING_KEY',
    };
  }
  if (configured) {
    const pem = await readFile(configured, 'utf8');
    return { privateKeyPem: pem, keyId: keyIdOf(pem), source: configured };
  }
  const home = path.resolve(config.ROSTER_HOME);
  const file = path.join(home, 'audit-signing.key');
  try {
    const pem = await readFile(file, 'utf8');
    return { privateKeyPem: pem, keyId: keyIdOf(pem), source: file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(home, { recursive: true });
  const pair = generateSigningKeyPair();
  // 'wx': never overwrite a key another process created meanwhile.
  await writeFile(file, pair.privateKeyPem, { mode: 0o600, flag: 'wx' }).catch(async (err) => {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  });
  await chmod(file, 0o600);
  const pem = await readFile(file, 'utf8');
  if (pem === pair.privateKeyPem) {
    await writeFile(path.join(home, 'audit-signing.pub'), pair.publicKeyPem, { mode: 0o644 });
  }
  return { privateKeyPem: pem, keyId: keyIdOf(pem), source: file };
}
