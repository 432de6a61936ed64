import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readVerifiedEvents, writeCsv } from '@roster/audit';
import {
  DEFAULT_GOVERNANCE_POLICY,
  type RedactionRules,
  redactAuditEvents,
  redactionRulesOf,
} from '@roster/governance';
import { openExportFile } from './export-file.js';
import { discard, keep, temporaryPathFor } from './output-file.js';
import { readPublicKeys } from './public-keys.js';
import { EXIT, UsageError } from './usage-error.js';
import { type AuditIo, describeVerified, reportFailure } from './verify.js';

/**
 * `roster audit export-csv <export> --public-key <pem>... --out <file.csv>`: verifies the export
 * and writes its events as CSV in the same pass; keeps the CSV only if the export verified.
 * Personal data in the events' data/before/after is redacted (the CSV is a reading copy; the
 * JSONL export stays verifiable): `redaction` default: the governance defaults' rules.
 */
export async function auditExportCsv(
  exportPath: string,
  keyFiles: readonly string[],
  out: string,
  io: AuditIo,
  redaction: RedactionRules | false = redactionRulesOf(DEFAULT_GOVERNANCE_POLICY.redaction),
): Promise<number> {
  const keys = await readPublicKeys(keyFiles);
  const temporary = temporaryPathFor(out);
  const file = await openExportFile(exportPath);
  const reader = readVerifiedEvents(file.lines, keys);
  try {
    const events = redaction ? redactAuditEvents(reader.events, redaction) : reader.events;
    await pipeline(Readable.from(writeCsv(events)), createWriteStream(temporary));
  } catch (cause) {
    await discard(temporary);
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === undefined) throw cause;
    throw new UsageError('--out', `cannot write ${out} (${code})`, { cause });
  } finally {
    file.close();
  }
  const result = reader.result();
  if (!result.ok) {
    await discard(temporary);
    reportFailure(exportPath, result.failure, io);
    io.warn(`  no CSV was written to ${out}`);
    return EXIT.failed;
  }
  await keep(temporary, out);
  for (const line of describeVerified(exportPath, result)) io.say(line);
  io.say(`✓ Wrote ${out} (${result.events.toLocaleString('en-US')} rows)`);
  return EXIT.ok;
}
