import {
  type KeyProvider,
  openAesGcm,
  packSealed,
  type SqlClient,
  sealAesGcm,
  unpackSealed,
} from '@roster/plugin-host';
import { detect } from '../redaction/detect.js';
import { detectEmails } from '../redaction/detect-email.js';
import type { PiiKind } from '../redaction/kinds.js';
import {
  ERASED,
  formatToken,
  hasSealedValues,
  mapStrings,
  type ParsedToken,
  replaceTokens,
  stringsOf,
  tokenSubjects,
} from './sealed-tokens.js';
import { loadSubjectKeys, normaliseEmail, subjectKeyFor } from './subject-keys.js';

/** The AAD of a sealed value binds it to its tenant and subject. */
const valueAad = (tenantId: string, subjectId: string) =>
  `roster-personal/v1|${tenantId}|${subjectId}`;

export interface SealOptions {
  /**
   * Object keys whose string values are personal as a whole (the policy's personal fields, e.g.
   * `name`): sealed under the subject of the first e-mail address in the same value. Default none.
   */
  personalFields?: readonly string[];
  /**
   * Detector kinds sealed inside text. Default `['email']`; other kinds (phone, iban, …) are
   * sealed under the value's subject, the first e-mail address in it.
   */
  kinds?: readonly PiiKind[];
}

export interface OpenOptions {
  /** What a value of an erased subject becomes. Default `[erased]`. */
  erased?: string;
}

/**
 * Seals and opens personal data in JSON values (run inputs, step outputs, audit data) with
 * per-subject keys. Each call takes a client inside the tenant's RLS transaction.
 */
export interface PersonalDataVault {
  /**
   * Replaces each e-mail address (and, in a value that names a subject by e-mail, the personal
   * fields and other detector kinds asked for) with a token sealed under that subject's key. Values without '@' return as they are, without a query.
   */
  seal(
    client: SqlClient,
    tenantId: string,
    value: unknown,
    options?: SealOptions,
  ): Promise<unknown>;
  /** Replaces tokens with their plaintext; tokens of erased subjects become `[erased]`. */
  open(
    client: SqlClient,
    tenantId: string,
    value: unknown,
    options?: OpenOptions,
  ): Promise<unknown>;
}

/** True when `value` may hold an e-mail address (no detector runs when this is false). */
function mayHoldEmail(value: unknown): boolean {
  for (const text of stringsOf(value)) if (text.includes('@')) return true;
  return false;
}

export function createPersonalDataVault(provider: KeyProvider): PersonalDataVault {
  return {
    async seal(client, tenantId, value, options = {}) {
      if (!mayHoldEmail(value)) return value;
      const emails = new Set<string>();
      for (const text of stringsOf(value)) {
        for (const d of detectEmails(text)) emails.add(text.slice(d.start, d.end));
      }
      if (emails.size === 0) return value;
      // One key per distinct address; the first address found is the value's subject.
      const keys = new Map<string, { subjectId: string; key: Buffer }>();
      for (const email of emails) {
        const norm = normaliseEmail(email);
        if (!keys.has(norm)) keys.set(norm, await subjectKeyFor(client, provider, tenantId, email));
      }
      const record = keys.values().next().value as { subjectId: string; key: Buffer };
      const sealWith = (subject: { subjectId: string; key: Buffer }, plain: string) =>
        formatToken(
          subject.subjectId,
          packSealed(
            sealAesGcm(
              subject.key,
              Buffer.from(plain, 'utf8'),
              valueAad(tenantId, subject.subjectId),
            ),
          ),
        );
      const personalFields = new Set(options.personalFields ?? []);
      const kinds = options.kinds ?? ['email'];
      const sealed = mapStrings(value, (text, field) => {
        if (field !== undefined && personalFields.has(field) && text !== '') {
          return sealWith(record, text);
        }
        let out = '';
        let at = 0;
        for (const d of detect(text, { kinds })) {
          const found = text.slice(d.start, d.end);
          const subject = d.kind === 'email' ? keys.get(normaliseEmail(found)) : record;
          out += text.slice(at, d.start) + sealWith(subject ?? record, found);
          at = d.end;
        }
        return at === 0 ? text : out + text.slice(at);
      });
      for (const { key } of keys.values()) key.fill(0);
      return sealed;
    },

    async open(client, tenantId, value, options = {}) {
      if (!hasSealedValues(value)) return value;
      const erased = options.erased ?? ERASED;
      const ids = new Set<string>();
      for (const text of stringsOf(value)) for (const id of tokenSubjects(text)) ids.add(id);
      const keys = await loadSubjectKeys(client, provider, tenantId, [...ids]);
      const openToken = ({ subjectId, packed }: ParsedToken) => {
        const key = keys.get(subjectId);
        if (!key) return erased;
        try {
          return openAesGcm(
            key,
            unpackSealed(packed),
            valueAad(tenantId, subjectId),
            'A personal value',
          ).toString('utf8');
        } catch {
          // Moved from another tenant or altered: unreadable, shown like erased data.
          return erased;
        }
      };
      const opened = mapStrings(value, (text) => replaceTokens(text, openToken));
      for (const key of keys.values()) key.fill(0);
      return opened;
    },
  };
}
