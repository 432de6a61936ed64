import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { EngineError } from './errors.js';
import { generateSigningSecret, signWebhook, verifyWebhook } from './webhook-signature.js';

const body = JSON.stringify({ hello: 'world' });

describe('Standard Webhooks signatures', () => {
  it('signs id.timestamp.body with HMAC-SHA256 as the spec says (checked by hand and by the spec library)', async () => {
    const secret = generateSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const at = new Date();
    const headers = signWebhook(secret, 'msg_1', body, at);
    const { createHmac } = await import('node:crypto');
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key)
      .update(`msg_1.${Math.floor(at.getTime() / 1000)}.${body}`)
      .digest('base64');
    expect(headers['webhook-signature']).toBe(`v1,${expected}`);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual({ hello: 'world' });
  });

  it('accepts any matching v1 signature among several (key rotation)', () => {
    const secret = generateSigningSecret();
    const headers = signWebhook(secret, 'msg_2', body);
    const other = signWebhook(generateSigningSecret(), 'msg_2', body)['webhook-signature'];
    expect(() =>
      verifyWebhook(
        secret,
        { ...headers, 'webhook-signature': `${other} ${headers['webhook-signature']}` },
        body,
      ),
    ).not.toThrow();
  });

  it.each([
    ['another secret', (_s: string) => signWebhook(generateSigningSecret(), 'm', body), body],
    ['a changed body', (s: string) => signWebhook(s, 'm', body), `${body} `],
    ['a changed id', (s: string) => ({ ...signWebhook(s, 'm', body), 'webhook-id': 'n' }), body],
    [
      'a timestamp 6 minutes old',
      (s: string) => signWebhook(s, 'm', body, new Date(Date.now() - 360_000)),
      body,
    ],
    [
      'a timestamp 6 minutes ahead',
      (s: string) => signWebhook(s, 'm', body, new Date(Date.now() + 360_000)),
      body,
    ],
    [
      'no signature header',
      (s: string) => ({ ...signWebhook(s, 'm', body), 'webhook-signature': undefined }),
      body,
    ],
  ])('refuses %s with SIGNATURE_INVALID', (_label, sign, received) => {
    const secret = generateSigningSecret();
    const error = (() => {
      try {
        verifyWebhook(secret, sign(secret) as Record<string, string | undefined>, received);
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ code: 'SIGNATURE_INVALID', apiCode: 'UNAUTHENTICATED' });
  });
});
