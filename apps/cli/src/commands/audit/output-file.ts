import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from './usage-error.js';

/**
 * Derived files (CSV, PDF) are written beside their destination under a temporary name and
 * renamed only once the export verified, so a failed check never leaves a plausible file.
 */
export function temporaryPathFor(out: string): string {
  if (out.length === 0 || out.endsWith(path.sep)) {
    throw new UsageError('--out', 'name the file to write, e.g. --out report.pdf');
  }
  return path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}.tmp`);
}

export async function keep(temporary: string, out: string): Promise<void> {
  await rename(temporary, out);
}

export async function discard(temporary: string): Promise<void> {
  await rm(temporary, { force: true });
}
