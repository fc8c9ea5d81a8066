import ipaddr from 'ipaddr.js';

/**
 * IPv6 ranges that are not public, first match wins. From the IANA IPv6
 * Special-Purpose Address Registry (iana.org/assignments/iana-ipv6-special-registry):
 * every block that is not globally reachable, plus the deprecated
 * IPv4-compatible ::/96 (RFC 4291 §2.5.5.1). IPv4-mapped and the well-known
 * NAT64 prefix are judged by the IPv4 address they carry (`JUDGED_BY_IPV4`).
 * Whatever is not listed is public only inside 2000::/3 (global unicast).
 */
const IPV6_RANGES: readonly (readonly [range: string, cidr: string])[] = [
  ['unspecified', '::/128'],
  ['loopback', '::1/128'],
  ['ipv4Mapped', '::ffff:0:0/96'],
  ['ipv4Compatible', '::/96'],
  ['nat64', '64:ff9b::/96'],
  ['localNat64', '64:ff9b:1::/48'],
  ['discard', '100::/64'],
  ['dummyPrefix', '100:0:0:1::/64'],
  ['teredo', '2001::/32'],
  ['ietfProtocol', '2001::/23'],
  ['documentation', '2001:db8::/32'],
  ['6to4', '2002::/16'],
  ['documentation', '3fff::/20'],
  ['segmentRouting', '5f00::/16'],
  ['uniqueLocal', 'fc00::/7'],
  ['linkLocal', 'fe80::/10'],
  ['siteLocal', 'fec0::/10'],
  ['multicast', 'ff00::/8'],
];
const JUDGED_BY_IPV4 = new Set(['ipv4Mapped', 'nat64']);
const IPV6_TABLE = IPV6_RANGES.map(([range, cidr]) => ({ range, cidr: ipaddr.IPv6.parseCIDR(cidr) }));
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const DOTTED_TAIL = new RegExp(`^(.*:)${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/**
 * Parses an IP address. IPv6 with a dotted IPv4 tail is rewritten to hex
 * first: ipaddr.js reads `::a.b.c.d` as IPv4-mapped `::ffff:a.b.c.d` (so
 * `::8.8.8.8` would pass for public). A dotted tail that is not plain decimal
 * is invalid, as it is for Node's `net.isIP`.
 */
function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (!text.includes(':')) return ipaddr.IPv4.isValid(text) ? ipaddr.IPv4.parse(text) : null;
  const zoneAt = text.includes('%') ? text.indexOf('%') : text.length;
  let hex = text.slice(0, zoneAt);
  if (hex.includes('.')) {
    const tail = DOTTED_TAIL.exec(hex);
    if (!tail) return null;
    const [head, a, b, c, d] = tail.slice(1);
    const group = (high?: string, low?: string) => ((Number(high) << 8) | Number(low)).toString(16);
    hex = `${head}${group(a, b)}:${group(c, d)}`;
  }
  const v6 = hex + text.slice(zoneAt);
  return ipaddr.IPv6.isValid(v6) ? ipaddr.IPv6.parse(v6) : null;
}

/** The IPv4 address in the last 32 bits of an IPv6 address. */
const embeddedIpv4 = (v6: ipaddr.IPv6): ipaddr.IPv4 => ipaddr.fromByteArray(v6.toByteArray().slice(12)) as ipaddr.IPv4;

/**
 * Whether an IP address is a public unicast address a webhook may be sent to.
 *
 * One place for the SSRF rule of SPEC §3 (literal IP hosts) and §5 (every
 * resolved address at connect time). IPv4 uses the ipaddr.js ranges: only
 * `unicast` passes, so loopback, private (RFC 1918), link-local (incl.
 * 169.254.169.254), CGNAT, multicast, broadcast, 0.0.0.0/8 and the
 * documentation/benchmark/reserved blocks are refused. IPv6 is public only in
 * 2000::/3 outside `IPV6_RANGES`; IPv4-mapped (`::ffff:127.0.0.1`) and NAT64
 * (`64:ff9b::/96`) addresses are judged by the IPv4 address they carry.
 */
export function classifyAddress(address: string): { public: boolean; range: string } {
  const parsed = parseAddress(address);
  if (parsed === null) return { public: false, range: 'invalid' };
  if (parsed.kind() === 'ipv4') return classifyIpv4(parsed as ipaddr.IPv4);
  const v6 = parsed as ipaddr.IPv6;
  const special = IPV6_TABLE.find((entry) => v6.match(entry.cidr));
  if (special && JUDGED_BY_IPV4.has(special.range)) return classifyIpv4(embeddedIpv4(v6));
  if (special) return { public: false, range: special.range };
  if (!v6.match(GLOBAL_UNICAST)) return { public: false, range: 'ietfReserved' };
  return { public: true, range: 'unicast' };
}

function classifyIpv4(v4: ipaddr.IPv4): { public: boolean; range: string } {
  const range = v4.range();
  return { public: range === 'unicast', range };
}

/**
 * The kind of a non-public range, with its article: `a private`, `a loopback`…
 * Given the address, an IPv4-compatible one also names the IPv4 it embeds.
 */
export function rangeKind(range: string, address?: string): string {
  const names: Record<string, string> = {
    private: 'a private',
    uniqueLocal: 'a private',
    loopback: 'a loopback',
    linkLocal: 'a link-local',
    carrierGradeNat: 'a carrier-grade NAT',
    multicast: 'a multicast',
    broadcast: 'a broadcast',
    unspecified: 'an unspecified',
    ipv4Compatible: 'an IPv4-compatible',
    localNat64: 'a local-use NAT64',
    discard: 'a discard-only',
    dummyPrefix: 'a dummy-prefix',
    teredo: 'a Teredo',
    ietfProtocol: 'an IETF protocol assignment',
    documentation: 'a documentation',
    '6to4': 'a 6to4',
    segmentRouting: 'an SRv6 segment identifier',
    siteLocal: 'a site-local',
    ietfReserved: 'an IETF-reserved',
  };
  const kind = `${names[range] ?? 'a non-public'} address`;
  const parsed = range === 'ipv4Compatible' && address !== undefined ? parseAddress(address) : null;
  if (parsed?.kind() === 'ipv6') return `${kind} embedding ${embeddedIpv4(parsed as ipaddr.IPv6).toString()}`;
  return kind;
}

/** A short human reason, e.g. `10.0.0.5 is a private address`. */
export function describeBlockedAddress(address: string, range: string): string {
  return `${address} is ${rangeKind(range, address)}`;
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
