import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateSigningKeyPair } from '@roster/audit';
import { EXIT, UsageError } from './usage-error.js';
import type { AuditIo } from './verify.js';

/**
 * `roster audit keygen --out-dir <dir> [--name <name>]`: writes an ed25519 key pair for signing
 * digests: `<name>.key` (private, mode 0600) and `<name>.pub` (public, for verifiers). Never
 * overwrites a file.
 */
export async function auditKeygen(outDir: string, name: string, io: AuditIo): Promise<number> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new UsageError('--name', 'use letters, digits, ".", "_" and "-" only');
  }
  const pair = generateSigningKeyPair();
  const privatePath = path.join(outDir, `${name}.key`);
  const publicPath = path.join(outDir, `${name}.pub`);
  try {
    await writeFile(privatePath, pair.privateKeyPem, { flag: 'wx', mode: 0o600 });
    await writeFile(publicPath, pair.publicKeyPem, { flag: 'wx', mode: 0o644 });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new UsageError(
      '--out-dir',
      code === 'EEXIST'
        ? `${name}.key or ${name}.pub already exists in ${outDir}; choose another --name or directory`
        : `cannot write into ${outDir} (${code ?? 'error'})`,
      { cause },
    );
  }
  io.say(`✓ Wrote ${privatePath} (private: keep it secret, it can sign digests)`);
  io.say(`✓ Wrote ${publicPath} (public: hand it to whoever verifies exports)`);
  io.say(`  key id  ${pair.keyId}`);
  return EXIT.ok;
}
