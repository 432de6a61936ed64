import { readFile } from 'node:fs/promises';
import { AuditError, createPublicKeyRing, type PublicKeyRing } from '@roster/audit';
import { UsageError } from './usage-error.js';

/** Reads the trusted public keys (SPKI PEM files) named by --public-key. */
export async function readPublicKeys(files: readonly string[]): Promise<PublicKeyRing> {
  if (files.length === 0) {
    throw new UsageError('--public-key', 'pass at least one public key file (PEM)');
  }
  const pems: string[] = [];
  for (const file of files) {
    try {
      pems.push(await readFile(file, 'utf8'));
    } catch (cause) {
      throw new UsageError(
        '--public-key',
        `cannot read ${file} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
        { cause },
      );
    }
  }
  try {
    return createPublicKeyRing(pems);
  } catch (cause) {
    if (cause instanceof AuditError) throw new UsageError('--public-key', cause.message, { cause });
    throw cause;
  }
}
