import { describe, expect, it } from 'vitest';
import { detect } from './detect.js';
import type { PiiKind } from './kinds.js';

type Found = [PiiKind, string][];

function found(text: string, phoneRegions?: string[]): Found {
  return detect(text, phoneRegions ? { phoneRegions } : {}).map((d) => [
    d.kind,
    text.slice(d.start, d.end),
  ]);
}

describe('detectors', () => {
  // [case, text, what must be found (kind and exact text)]
  const table: [string, string, Found][] = [
    // email
    ['plain email', 'write to jane.doe@example.com today', [['email', 'jane.doe@example.com']]],
    [
      'email with plus and sub-domains',
      'cc: a.b+tag@mail.example.co.uk.',
      [['email', 'a.b+tag@mail.example.co.uk']],
    ],
    ['email with accents', 'josé@exämple.de', [['email', 'josé@exämple.de']]],
    ['email in angle brackets', 'From: Jane <jane@example.org>', [['email', 'jane@example.org']]],
    ['near miss: host without TLD', 'root@localhost', []],
    ['near miss: one-letter TLD', 'a@b.c', []],
    ['near miss: social handle', 'ping @jane on slack', []],
    ['near miss: double dot in local part', 'jane..doe@example.com', []],
    ['near miss: domain only', 'see example.com', []],

    // phone
    ['E.164 number', 'call +14155552671 now', [['phone', '+14155552671']]],
    ['international with spaces', 'tel +44 20 7946 0958', [['phone', '+44 20 7946 0958']]],
    ['international French', 'tel. +33 1 23 45 67 89', [['phone', '+33 1 23 45 67 89']]],
    ['Dutch mobile', 'mobiel +31 6 12345678', [['phone', '+31 6 12345678']]],
    ['US national with parentheses', 'call (415) 555-2671', [['phone', '(415) 555-2671']]],
    ['US national with dashes', 'call 415-555-2671', [['phone', '415-555-2671']]],
    ['UK national', 'ring 020 7946 0958', [['phone', '020 7946 0958']]],
    ['near miss: ISO date', 'due 2024-01-15', []],
    ['near miss: European date', 'due 15.01.2024', []],
    ['near miss: US date', 'due 1/15/2024', []],
    ['near miss: time', 'at 12:30:45', []],
    ['near miss: version', 'build 10.0.19045.2965 and v1.2.3', []],
    ['near miss: IP address', 'host 192.168.100.200', []],
    ['near miss: ZIP+4', 'zip 94105-1234', []],
    ['near miss: amount', 'total 1234567.89 EUR', []],
    ['near miss: epoch millis', 'ts 1700000000000', []],
    ['near miss: UUID', 'id 550e8400-e29b-41d4-a716-446655440000', []],

    // IBAN
    [
      'IBAN, print form',
      'pay GB82 WEST 1234 5698 7654 32.',
      [['iban', 'GB82 WEST 1234 5698 7654 32']],
    ],
    ['IBAN, electronic form', 'IBAN: DE89370400440532013000', [['iban', 'DE89370400440532013000']]],
    ['IBAN, Dutch', 'rekening NL91ABNA0417164300', [['iban', 'NL91ABNA0417164300']]],
    [
      'IBAN, French with letters',
      'FR14 2004 1010 0505 0001 3M02 606',
      [['iban', 'FR14 2004 1010 0505 0001 3M02 606']],
    ],
    ['IBAN, Belgian', 'BE68 5390 0754 7034', [['iban', 'BE68 5390 0754 7034']]],
    ['near miss: IBAN with a wrong check digit', 'GB82 WEST 1234 5698 7654 33', []],
    ['near miss: IBAN one character short', 'DE89 3704 0044 0532 0130 0', []],
    ['near miss: IBAN glued to a word', 'GB82WEST12345698765432X', []],
    ['near miss: unknown country', 'XX82 WEST 1234 5698 7654 32', []],

    // payment cards
    [
      'Visa, grouped',
      'card 4111 1111 1111 1111 exp 12/29',
      [['paymentCard', '4111 1111 1111 1111']],
    ],
    ['Mastercard, dashes', '5555-5555-5555-4444', [['paymentCard', '5555-5555-5555-4444']]],
    ['Mastercard 2-series, bare', '2223003122003222', [['paymentCard', '2223003122003222']]],
    ['Amex, 4-6-5', 'amex 3782 822463 10005', [['paymentCard', '3782 822463 10005']]],
    ['Diners, 14 digits', '36227206271667', [['paymentCard', '36227206271667']]],
    ['Visa, 13 digits', '4222222222222', [['paymentCard', '4222222222222']]],
    ['UnionPay', 'cup 6200000000000005', [['paymentCard', '6200000000000005']]],
    ['near miss: 16 digits failing Luhn', 'card 4111 1111 1111 1112', []],
    ['near miss: Luhn-valid but no card network', 'ref 9000000000000001', []],
    ['near miss: Luhn-valid inside a longer number', 'acct 41111111111111110000', []],
    ['near miss: 12 digits', '411111111111', []],

    // US SSN
    ['SSN with dashes', 'SSN 123-45-6789', [['usSsn', '123-45-6789']]],
    ['SSN with spaces', 'ssn: 536 22 1234', [['usSsn', '536 22 1234']]],
    ['bare SSN after its name', 'Social Security Number: 536221234', [['usSsn', '536221234']]],
    ['near miss: area 000', '000-12-3456', []],
    ['near miss: area 666', '666-12-3456', []],
    ['near miss: area 9xx', '912-34-5678', []],
    ['near miss: group 00', '123-00-4567', []],
    ['near miss: serial 0000', '123-45-0000', []],
    ['near miss: mixed separators', '123-45 6789', []],
    ['near miss: nine bare digits without context', 'order 536221234', []],

    // UK National Insurance number
    ['NINO with spaces', 'NI: AB 12 34 56 C', [['ukNino', 'AB 12 34 56 C']]],
    ['NINO compact', 'JG103759A', [['ukNino', 'JG103759A']]],
    ['near miss: NINO with a forbidden first letter (the QQ placeholder)', 'QQ 12 34 56 C', []],
    ['near miss: NINO with an unused prefix', 'GB 12 34 56 A', []],
    ['near miss: NINO with suffix E', 'AB 12 34 56 E', []],
    ['near miss: NINO in lower case', 'ab123456c', []],

    // Dutch BSN
    ['BSN after its name', 'BSN: 111222333', [['nlBsn', '111222333']]],
    [
      'BSN in a Dutch sentence',
      'mijn burgerservicenummer is 1234.56.782',
      [['nlBsn', '1234.56.782']],
    ],
    ['near miss: BSN failing the 11-proof', 'BSN: 111222334', []],
    ['near miss: 11-proof number without context', 'order 111222333', []],

    // French NIR
    ['NIR with spaces', 'NIR 1 84 12 76 451 089 46', [['frNir', '1 84 12 76 451 089 46']]],
    ['NIR compact', '155079912345654', [['frNir', '155079912345654']]],
    ['NIR from Corsica', '2 90 05 2A 004 123 52', [['frNir', '2 90 05 2A 004 123 52']]],
    ['near miss: NIR with a wrong key', '1 84 12 76 451 089 47', []],
    ['near miss: NIR with month 13', '1 84 13 76 451 089 46', []],

    // several at once, in order of position
    [
      'a mixed message',
      'Jane (jane@example.com, +44 20 7946 0958) paid with 4111-1111-1111-1111 from NL91ABNA0417164300.',
      [
        ['email', 'jane@example.com'],
        ['phone', '+44 20 7946 0958'],
        ['paymentCard', '4111-1111-1111-1111'],
        ['iban', 'NL91ABNA0417164300'],
      ],
    ],
  ];

  it.each(table)('%s', (_case, text, expected) => {
    expect(found(text)).toEqual(expected);
  });

  it('recognises national phone formats only for the configured regions', () => {
    expect(found('ring 020 7946 0958', ['US'])).toEqual([]);
    expect(found('ring 020 7946 0958', ['GB'])).toEqual([['phone', '020 7946 0958']]);
    expect(found('ring 030 12345678', ['DE'])).toEqual([['phone', '030 12345678']]);
    expect(found('ring +44 20 7946 0958', [])).toEqual([['phone', '+44 20 7946 0958']]);
  });

  it('still refuses dates with a region whose numbers look like dates', () => {
    expect(found('due 2024-01-15', ['DE'])).toEqual([]);
  });

  it('gives a card number to the card detector rather than the phone detector', () => {
    expect(detect('4111111111111111').map((d) => d.kind)).toEqual(['paymentCard']);
  });

  it('looks only for the kinds asked for', () => {
    const text = 'jane@example.com 4111 1111 1111 1111';
    expect(detect(text, { kinds: ['paymentCard'] }).map((d) => d.kind)).toEqual(['paymentCard']);
  });
});
