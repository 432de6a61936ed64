import { AuditError } from './errors.js';
import type { AuditEvent } from './event.js';
import { ExportVerifier, type VerifyResult } from './export-verifier.js';
import type { PublicKeyInput, PublicKeyRing } from './keys.js';

export interface VerifyingReader {
  /**
   * The export's events in order, each yielded once its own line checks out; stops at the
   * first failure. Whatever you build from them is trustworthy only if result() is ok, so
   * write derived files to a temporary path and keep them only then.
   */
  events: AsyncGenerator<AuditEvent, void, undefined>;
  /** The verification result; available once `events` has finished. */
  result(): VerifyResult;
}

/**
 * Verifies an export and hands over its events in the same pass (for CSV and reports), so a
 * large export is read once.
 */
export function readVerifiedEvents(
  lines: AsyncIterable<string> | Iterable<string>,
  publicKeys: PublicKeyRing | Iterable<PublicKeyInput>,
): VerifyingReader {
  let pending: AuditEvent[] = [];
  const verifier = new ExportVerifier(publicKeys, { onEvent: (event) => pending.push(event) });
  let result: VerifyResult | null = null;
  async function* events(): AsyncGenerator<AuditEvent, void, undefined> {
    for await (const line of lines) {
      const failure = verifier.push(line);
      const ready = pending;
      pending = [];
      yield* ready;
      if (failure !== null) {
        result = { ok: false, failure };
        return;
      }
    }
    result = verifier.finish();
  }
  return {
    events: events(),
    result() {
      if (result === null) {
        throw new AuditError(
          'AUDIT_READ_UNFINISHED',
          'The export has not been read to the end yet; iterate `events` to completion before calling result().',
        );
      }
      return result;
    },
  };
}
