import { describe, expect, it } from 'vitest';
import { createEgressPolicy } from './egress-policy.js';

describe('egress policy', () => {
  const policy = createEgressPolicy();

  it.each([
    '127.0.0.1',
    '127.9.9.9',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fc00::1',
    'fd00:ec2::254',
    'fe80::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::a00:1',
  ])('blocks %s', (address) => {
    expect(policy.checkAddress('api.example.com', address).allowed).toBe(false);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:93.184.216.34'])(
    'allows public %s',
    (address) => {
      expect(policy.checkAddress('api.example.com', address)).toEqual({ allowed: true });
    },
  );

  it('blocks metadata names whatever they resolve to, and non-IP answers', () => {
    expect(policy.checkAddress('metadata.google.internal', '93.184.216.34').allowed).toBe(false);
    expect(policy.checkAddress('api.example.com', 'not-an-ip').allowed).toBe(false);
  });

  it('lets the operator allow-list CIDRs, addresses and host names', () => {
    const operator = createEgressPolicy({
      allow: ['10.1.0.0/16', '127.0.0.1', 'peer.internal', '::1/128'],
    });
    expect(operator.checkAddress('x.test', '10.1.2.3').allowed).toBe(true);
    expect(operator.checkAddress('x.test', '10.2.0.1').allowed).toBe(false);
    expect(operator.checkAddress('x.test', '127.0.0.1').allowed).toBe(true);
    expect(operator.checkAddress('x.test', '127.0.0.2').allowed).toBe(false);
    expect(operator.checkAddress('x.test', '::1').allowed).toBe(true);
    expect(operator.checkAddress('PEER.internal', '192.168.7.7').allowed).toBe(true);
    expect(operator.checkAddress('other.internal', '192.168.7.7').allowed).toBe(false);
  });
});
