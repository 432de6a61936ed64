/** What the redaction detectors find. National ids are one kind per scheme. */
export const PII_KINDS = [
  'email',
  'phone',
  'iban',
  'paymentCard',
  /** US Social Security number. */
  'usSsn',
  /** UK National Insurance number. */
  'ukNino',
  /** Dutch citizen service number (burgerservicenummer). */
  'nlBsn',
  /** French social security number (NIR). */
  'frNir',
] as const;

export type PiiKind = (typeof PII_KINDS)[number];

export const NATIONAL_ID_KINDS = [
  'usSsn',
  'ukNino',
  'nlBsn',
  'frNir',
] as const satisfies readonly PiiKind[];

export function isPiiKind(value: unknown): value is PiiKind {
  return (PII_KINDS as readonly unknown[]).includes(value);
}

/** A detected value: text.slice(start, end) is what it found (UTF-16 offsets). */
export interface Detection {
  kind: PiiKind;
  start: number;
  end: number;
}
