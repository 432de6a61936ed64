import { BlockList, isIP } from 'node:net';

/**
 * Which addresses plugin HTTP may reach. Everything that is not the public internet is blocked
 * unless the operator's allow-list names it (tests and local peers do this for 127.0.0.1).
 */
export interface EgressPolicyOptions {
  /**
   * Operator allow-list: CIDRs (`10.1.0.0/16`, `::1/128`), single addresses (`127.0.0.1`) or
   * host names (`peer.internal`: any address it resolves to is then allowed). Default: none.
   */
  readonly allow?: readonly string[];
}

export type AddressVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: string };

export interface EgressPolicy {
  /** Checks one resolved address for a host name (the name matters for host allow-list entries). */
  checkAddress(hostname: string, address: string): AddressVerdict;
}

// [network, prefix, why] — IPv4 rules also match IPv4-mapped IPv6 (::ffff:a.b.c.d) in BlockList.
const BLOCKED_V4: readonly [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified/"this network"'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata lives at 169.254.169.254)'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved/broadcast'],
];

const BLOCKED_V6: readonly [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['64:ff9b::', 96, 'NAT64 (can reach private IPv4)'],
  ['64:ff9b:1::', 48, 'local NAT64'],
  ['100::', 64, 'discard'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, '6to4 (can embed private IPv4)'],
  ['fc00::', 7, 'unique local (ULA)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated)'],
  ['ff00::', 8, 'multicast'],
];

/** Names that reach instance metadata services however DNS answers. */
const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.azure.internal',
  'localhost',
]);

function normaliseHost(hostname: string): string {
  return hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
}

export function createEgressPolicy(options: EgressPolicyOptions = {}): EgressPolicy {
  const blocked = new Map<string, BlockList>();
  const reasons: { list: BlockList; reason: string }[] = [];
  for (const [net, prefix, reason] of BLOCKED_V4) {
    const list = blocked.get(reason) ?? new BlockList();
    list.addSubnet(net, prefix, 'ipv4');
    blocked.set(reason, list);
  }
  for (const [net, prefix, reason] of BLOCKED_V6) {
    const list = blocked.get(reason) ?? new BlockList();
    list.addSubnet(net, prefix, 'ipv6');
    blocked.set(reason, list);
  }
  for (const [reason, list] of blocked) reasons.push({ list, reason });

  const allowed = new BlockList();
  const allowedHosts = new Set<string>();
  for (const entry of options.allow ?? []) {
    const [net, prefix] = entry.split('/');
    const family = isIP(net ?? '');
    if (family !== 0 && net) {
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) allowed.addAddress(net, type);
      else allowed.addSubnet(net, Number(prefix), type);
    } else {
      allowedHosts.add(normaliseHost(entry));
    }
  }

  return {
    checkAddress(hostname, address) {
      const host = normaliseHost(hostname);
      const family = isIP(address);
      if (family === 0) return { allowed: false, reason: `"${address}" is not an IP address` };
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (allowedHosts.has(host) || allowed.check(address, type)) return { allowed: true };
      if (METADATA_NAMES.has(host) || host.endsWith('.localhost')) {
        return { allowed: false, reason: `"${host}" is a metadata/local name` };
      }
      for (const { list, reason } of reasons) {
        if (list.check(address, type)) return { allowed: false, reason: `${address} is ${reason}` };
      }
      return { allowed: true };
    },
  };
}
