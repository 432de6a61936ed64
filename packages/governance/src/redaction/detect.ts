import { detectPaymentCards } from './detect-card.js';
import { detectEmails } from './detect-email.js';
import { detectIbans } from './detect-iban.js';
import { detectFrNirs, detectNlBsns, detectUkNinos, detectUsSsns } from './detect-national-ids.js';
import { detectPhones } from './detect-phone.js';
import { type Detection, PII_KINDS, type PiiKind } from './kinds.js';

export interface DetectOptions {
  /** Kinds to look for. Default: all of PII_KINDS. */
  kinds?: readonly PiiKind[];
  /** ISO 3166 regions whose national phone formats count. Default: DEFAULT_PHONE_REGIONS. */
  phoneRegions?: readonly string[];
}

// When findings overlap, the most specific wins: checksummed formats before phone numbers,
// which match many digit runs.
const PRIORITY: readonly PiiKind[] = [
  'email',
  'iban',
  'paymentCard',
  'frNir',
  'ukNino',
  'usSsn',
  'nlBsn',
  'phone',
];

/** Finds personal data in text: non-overlapping detections in order of position. */
export function detect(text: string, options: DetectOptions = {}): Detection[] {
  const kinds = new Set(options.kinds ?? PII_KINDS);
  const all: Detection[] = [];
  for (const kind of PRIORITY) {
    if (!kinds.has(kind)) continue;
    all.push(...detectKind(kind, text, options));
  }
  const kept: Detection[] = [];
  for (const candidate of all) {
    if (!kept.some((k) => candidate.start < k.end && k.start < candidate.end)) kept.push(candidate);
  }
  return kept.sort((a, b) => a.start - b.start);
}

function detectKind(kind: PiiKind, text: string, options: DetectOptions): Detection[] {
  switch (kind) {
    case 'email':
      return detectEmails(text);
    case 'phone':
      return detectPhones(text, options.phoneRegions);
    case 'iban':
      return detectIbans(text);
    case 'paymentCard':
      return detectPaymentCards(text);
    case 'usSsn':
      return detectUsSsns(text);
    case 'ukNino':
      return detectUkNinos(text);
    case 'nlBsn':
      return detectNlBsns(text);
    case 'frNir':
      return detectFrNirs(text);
  }
}
