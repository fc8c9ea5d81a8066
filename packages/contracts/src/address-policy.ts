import ipaddr from 'ipaddr.js';

/**
 * Whether an IP address is a public unicast address a webhook may be sent to.
 *
 * One place for the SSRF rule of SPEC §3 (literal IP hosts) and §5 (every
 * resolved address at connect time). Ranges come from ipaddr.js, not from
 * hand-written masks: only `unicast` passes, so loopback, private (RFC 1918,
 * fc00::/7), link-local (incl. 169.254.169.254), CGNAT, multicast, broadcast,
 * unspecified, documentation/benchmark/reserved, 6to4 and Teredo are refused.
 * IPv4-mapped (`::ffff:127.0.0.1`) and NAT64 (`64:ff9b::/96`) addresses are
 * judged by the IPv4 address they carry.
 */
export function classifyAddress(address: string): { public: boolean; range: string } {
  if (!ipaddr.isValid(address)) return { public: false, range: 'invalid' };
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
    else if (v6.range() === 'rfc6052') parsed = ipaddr.fromByteArray(v6.toByteArray().slice(12));
  }
  const range = parsed.range();
  return { public: range === 'unicast', range };
}

/** The kind of a non-public range, with its article: `a private`, `a loopback`… */
export function rangeKind(range: string): string {
  const names: Record<string, string> = {
    private: 'a private',
    uniqueLocal: 'a private',
    loopback: 'a loopback',
    linkLocal: 'a link-local',
    carrierGradeNat: 'a carrier-grade NAT',
    multicast: 'a multicast',
    broadcast: 'a broadcast',
    unspecified: 'an unspecified',
  };
  return `${names[range] ?? 'a non-public'} address`;
}

/** A short human reason, e.g. `10.0.0.5 is a private address`. */
export function describeBlockedAddress(address: string, range: string): string {
  return `${address} is ${rangeKind(range)}`;
}

/** True for IP literals, with or without the brackets URLs put around IPv6. */
export function isIpLiteral(host: string): boolean {
  return ipaddr.isValid(stripBrackets(host));
}

export const stripBrackets = (host: string): string =>
  host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;

/** Names that are local by definition (RFC 6761): never public. */
export const isLocalhostName = (host: string): boolean => {
  const name = host.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
};
