import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { exportAudit, tenantIdForSlug } from '@roster/audit';
import type { Config } from '@roster/config';
import { createPool, openDatabase } from '@roster/db';
import { installWorkerSchema } from '@roster/engine';
import { loadOrCreateAuditSigningKey } from './signing-key.js';
import { EXIT, UsageError } from './usage-error.js';
import type { AuditIo } from './verify.js';

export interface ExportDbOptions {
  tenant: string;
  from: string;
  to?: string;
  out: string;
}

function parseDate(value: string, name: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new UsageError(name, `${value} is not a date; use ISO 8601, e.g. 2025-01-31T00:00:00Z`);
  }
  return date;
}

/**
 * `roster audit export`: a tenant's audit trail for a period, from the database, as a signed
 * JSONL export (written to a temporary file and renamed once complete). Progress on stderr.
 */
export async function auditExportDb(
  config: Config,
  options: ExportDbOptions,
  io: AuditIo,
): Promise<number> {
  const from = parseDate(options.from, '--from');
  const to = options.to ? parseDate(options.to, '--to') : new Date();
  if (from > to) throw new UsageError('--from', '--from must not be after --to');
  const key = await loadOrCreateAuditSigningKey(config);
  const database = await openDatabase(config, undefined, { afterMigrate: installWorkerSchema });
  const pool = createPool(database.appUrl, { max: 2, applicationName: 'roster-audit-export' });
  const partial = `${options.out}.partial`;
  try {
    const tenantId = await tenantIdForSlug(pool, options.tenant);
    if (tenantId === null)
      throw new UsageError('--tenant', `no tenant has the slug ${options.tenant}`);
    const file = createWriteStream(partial, { mode: 0o600 });
    let lastShown = 0;
    for await (const line of exportAudit(pool, tenantId, {
      from,
      to,
      signingKey: key.privateKeyPem,
      onProgress: (written, total) => {
        if (written - lastShown >= 10_000 || written === total) {
          lastShown = written;
          io.warn(`  ${written} / ${total} events`);
        }
      },
    })) {
      if (!file.write(`${line}\n`)) await once(file, 'drain');
    }
    file.end();
    await once(file, 'finish');
    await rename(partial, options.out);
    io.warn(
      `✓ Exported ${options.tenant} to ${options.out} (signed by key ${key.keyId.slice(0, 16)}…)`,
    );
    return EXIT.ok;
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  } finally {
    await pool.end();
    await database.stop();
  }
}
