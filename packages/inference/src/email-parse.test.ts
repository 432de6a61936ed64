import { describe, expect, it } from 'vitest';
import { parseEmail } from './email-parse.js';

const crlf = (s: string) => s.replace(/\n/g, '\r\n');
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe('parseEmail', () => {
  it('keeps only Subject, From and Content-Type, skipping the mbox envelope line', () => {
    const email = parseEmail(
      'From sender@example.com  Thu Aug 22 12:36:23 2002\nReturn-Path: <x@collector.example>\nFrom: Ann <ann@example.org>\nSubject: Lunch\n  tomorrow?\nX-Spam-Status: No\n\nSee you at noon.\n',
    );
    expect(email.from).toBe('Ann <ann@example.org>');
    expect(email.subject).toBe('Lunch tomorrow?');
    expect(email.contentType).toBe('text/plain');
    expect(email.text).toBe('See you at noon.\n');
    expect(JSON.stringify(email)).not.toContain('collector');
  });

  it('decodes a quoted-printable body with soft line breaks in its charset', () => {
    const raw = latin1(
      crlf(
        'Subject: =?iso-8859-1?Q?Caf=E9_cr=E8me?=\nContent-Type: text/plain; charset="iso-8859-1"\nContent-Transfer-Encoding: quoted-printable\n\nPrix sp=E9cial: 3=80 le caf=\n=E9, =3D deux euros.\n',
      ),
    );
    const email = parseEmail(raw);
    expect(email.subject).toBe('Café crème');
    expect(email.charset).toBe('iso-8859-1');
    // iso-8859-1 is read as windows-1252 (as browsers do), so 0x80 is the euro sign.
    expect(email.text).toBe('Prix spécial: 3€ le café, = deux euros.\n');
  });

  it('decodes base64 bodies and B-encoded headers', () => {
    const body = Buffer.from('Grüße aus München', 'utf8').toString('base64');
    const subject = Buffer.from('Überweisung', 'utf8').toString('base64');
    const email = parseEmail(
      `Subject: =?UTF-8?B?${subject}?= =?UTF-8?B?${Buffer.from('!').toString('base64')}?=\nFrom: =?utf-8?q?J=C3=B6rg?= <j@example.de>\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n${body.slice(0, 10)}\n${body.slice(10)}\n`,
    );
    expect(email.subject).toBe('Überweisung!');
    expect(email.from).toBe('Jörg <j@example.de>');
    expect(email.text).toBe('Grüße aus München');
  });

  it('reads raw latin1 bytes by the declared charset, and undeclared 8-bit as windows-1252', () => {
    const declared = parseEmail(
      latin1('Content-Type: text/plain; charset=ISO-8859-1\n\nJo\xe3o n\xe3o est\xe1 aqui.'),
    );
    expect(declared.text).toBe('João não está aqui.');
    const undeclared = parseEmail(latin1('Subject: Pr\xe9sentation\n\n\x93Bonjour\x94'));
    expect(undeclared.subject).toBe('Présentation');
    expect(undeclared.text).toBe('“Bonjour”');
  });

  it('takes the richer alternative of multipart/alternative and turns HTML into text', () => {
    const raw = crlf(`From: promo@shop.example
Subject: Offer
Content-Type: multipart/alternative; boundary="b1"

This is a multi-part message in MIME format.
--b1
Content-Type: text/plain; charset=us-ascii

Click here
--b1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<html><head><style>p{color:red}</style></head><body><p>Caf&eacute; &amp; cr&#233;me=
 &euro;5</p><script>track()</script><a href=3D"http://deals.shop.example/x">Click here</a> now<br>Bye</body></html>
--b1--
`);
    const email = parseEmail(raw);
    expect(email.contentType).toBe('multipart/alternative');
    expect(email.parts).toEqual(['text/plain', 'text/html']);
    expect(email.text).toContain('Café & créme €5');
    expect(email.text).toContain('Click here now\nBye');
    expect(email.text).not.toMatch(/color|track|<p>/);
    expect(email.links).toEqual(['http://deals.shop.example/x']);
  });

  it('walks nested multipart/mixed with attachments and forwarded messages', () => {
    const pdf = Buffer.from('%PDF-1.4 not text').toString('base64');
    const raw = `Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: text/plain

Report attached.
--outer
Content-Type: application/pdf; name="r.pdf"
Content-Transfer-Encoding: base64

${pdf}
--outer
Content-Type: message/rfc822

Subject: Original question
From: bob@example.net

What about Q3?
--outer--
`;
    const email = parseEmail(raw);
    expect(email.parts).toEqual(['text/plain', 'application/pdf', 'message/rfc822', 'text/plain']);
    expect(email.text).toContain('Report attached.');
    expect(email.text).toContain('Original question');
    expect(email.text).toContain('What about Q3?');
    expect(email.text).not.toContain('PDF');
  });

  it('treats an unknown charset label as a guess instead of failing', () => {
    const email = parseEmail(latin1('Content-Type: text/plain; charset=x-made-up\n\nna\xefve'));
    expect(email.text).toBe('naïve');
  });
});
