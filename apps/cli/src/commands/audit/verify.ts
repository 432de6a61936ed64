import { type VerifiedExport, type VerifyFailure, verifyExport } from '@roster/audit';
import { openExportFile } from './export-file.js';
import { readPublicKeys } from './public-keys.js';
import { EXIT } from './usage-error.js';

export interface AuditIo {
  /** A line of the command's result (stdout). */
  say(line: string): void;
  /** A line about a failure (stderr). */
  warn(line: string): void;
}

/**
 * `roster audit verify <export> --public-key <pem>...`: checks an export offline (no database,
 * no network) and returns the exit code: 0 verified, 1 not verified. Bad arguments throw
 * UsageError (exit 2).
 */
export async function auditVerify(
  exportPath: string,
  keyFiles: readonly string[],
  io: AuditIo,
): Promise<number> {
  const keys = await readPublicKeys(keyFiles);
  const file = await openExportFile(exportPath);
  const result = await verifyExport(file.lines, keys).finally(() => file.close());
  if (!result.ok) {
    reportFailure(exportPath, result.failure, io);
    return EXIT.failed;
  }
  for (const line of describeVerified(exportPath, result)) io.say(line);
  return EXIT.ok;
}

export function describeVerified(path: string, v: VerifiedExport): string[] {
  return [
    `✓ Verified ${path}`,
    `  tenant      ${v.tenantId}`,
    `  period      ${v.periodStart} to ${v.periodEnd}`,
    `  events      ${v.events.toLocaleString('en-US')} (seq ${v.firstSeq} to ${v.lastSeq}), hash chain unbroken`,
    `  digests     ${v.digests.toLocaleString('en-US')}, every signature valid`,
    `  chain head  ${v.lastHash}`,
    ...v.keyIds.map((id, i) => `  ${i === 0 ? 'key ids    ' : '           '} ${id}`),
  ];
}

/** Names the first failing event (line, seq, id) and what is wrong with it. */
export function reportFailure(path: string, f: VerifyFailure, io: AuditIo): void {
  const where = [
    `line ${f.line}`,
    ...(f.seq === null ? [] : [`seq ${f.seq}`]),
    ...(f.eventId === null ? [] : [`event ${f.eventId}`]),
  ].join(', ');
  io.warn(`✗ NOT verified: ${path}`);
  io.warn(`  first failure  ${where}`);
  io.warn(`  code           ${f.code}`);
  io.warn(`  problem        ${f.message}`);
}
