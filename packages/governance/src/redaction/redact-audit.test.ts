import { describe, expect, it } from 'vitest';
import { createAuditEventRedactor, redactAuditEvents } from './redact-audit.js';

const event = {
  seq: 7,
  id: 'evt-7',
  hash: 'ab12',
  data: { invited: 'ada@example.com', role: 'viewer' },
  before: { iban: 'NL91ABNA0417164300' },
  after: { card: '4111111111111111', note: 'call +44 20 7946 0958' },
};

describe('audit event redaction (CSV/PDF copies)', () => {
  it('redacts data, before and after and keeps ids and hashes', () => {
    const out = createAuditEventRedactor({})(event);
    expect(out).toEqual({
      seq: 7,
      id: 'evt-7',
      hash: 'ab12',
      data: { invited: '[redacted:email]', role: 'viewer' },
      before: { iban: '[redacted:iban]' },
      after: { card: '[redacted:paymentCard]', note: 'call [redacted:phone]' },
    });
    expect(event.data.invited).toBe('ada@example.com');
  });

  it('follows the detectors that are on, over a stream', async () => {
    const out = [];
    for await (const e of redactAuditEvents([event], { kinds: ['email'] })) out.push(e);
    expect(out[0]?.data.invited).toBe('[redacted:email]');
    expect(out[0]?.before?.iban).toBe('NL91ABNA0417164300');
  });
});
