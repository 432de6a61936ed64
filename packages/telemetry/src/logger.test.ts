import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, destination, parsed: () => lines.map((l) => JSON.parse(l)) };
}

// Valid by checksum: a Visa test number, a Dutch IBAN.
const CARD = '4111 1111 1111 1111';
const IBAN = 'NL91ABNA0417164300';

describe('log redaction', () => {
  it('never prints an e-mail, IBAN or card number from a logged object', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', name: 't', destination: out.destination });
    logger.info(
      { email: 'ada@example.com', payment: { iban: IBAN, cards: [CARD] }, count: 3 },
      'charged',
    );
    const text = out.lines.join('');
    for (const secret of ['ada@example.com', IBAN, CARD]) expect(text).not.toContain(secret);
    expect(out.parsed()[0]).toMatchObject({
      email: '[redacted:email]',
      payment: { iban: '[redacted:iban]', cards: ['[redacted:paymentCard]'] },
      count: 3,
      msg: 'charged',
    });
  });

  it('redacts messages, printf arguments, child bindings and errors', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', name: 't', destination: out.destination });
    logger.child({ customer: 'bob@example.org' }).info('mail to %s failed', 'eve@example.net');
    logger.error({ err: new Error(`card ${CARD} declined`) }, `refund to ${IBAN}`);
    const text = out.lines.join('');
    for (const secret of ['bob@example.org', 'eve@example.net', CARD, IBAN]) {
      expect(text).not.toContain(secret);
    }
    const [first, second] = out.parsed();
    expect(first).toMatchObject({
      customer: '[redacted:email]',
      msg: 'mail to [redacted:email] failed',
    });
    expect(second.err).toMatchObject({
      type: 'Error',
      message: 'card [redacted:paymentCard] declined',
    });
    expect(second.msg).toBe('refund to [redacted:iban]');
  });

  it('follows the detectors the policy turns on, or none with redaction: false', () => {
    const only = capture();
    createLogger({
      level: 'info',
      name: 't',
      destination: only.destination,
      redaction: { kinds: ['iban'] },
    }).info({ email: 'ada@example.com', iban: IBAN });
    expect(only.parsed()[0]).toMatchObject({ email: 'ada@example.com', iban: '[redacted:iban]' });
    const off = capture();
    createLogger({ level: 'info', name: 't', destination: off.destination, redaction: false }).info(
      {
        email: 'ada@example.com',
      },
    );
    expect(off.parsed()[0].email).toBe('ada@example.com');
  });

  it('keeps logging objects with cycles', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', name: 't', destination: out.destination });
    const node: Record<string, unknown> = { email: 'ada@example.com' };
    node.self = node;
    logger.info({ node });
    expect(out.lines.join('')).not.toContain('ada@example.com');
  });
});
