import dns, { type LookupAddress, type LookupAllOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { classifyAddress, describeBlockedAddress, stripBrackets } from '@handinger-webhooks/contracts';
import { buildConnector } from 'undici';

/** A connection refused by the SSRF rule; its message is the execution's `errorMessage`. */
export class BlockedAddressError extends Error {
  readonly code = 'E_BLOCKED_ADDRESS';

  constructor(readonly reason: string) {
    super(`blocked: ${reason}`);
    this.name = 'BlockedAddressError';
  }
}

/**
 * Why a connection to these addresses must not be made (the first non-public
 * one, e.g. `127.0.0.1 is a loopback address`), or `null` when all are public.
 * All must pass: a name resolving to one public and one private address is
 * refused, since the socket may pick either.
 */
export function blockedReason(addresses: readonly string[]): string | null {
  if (addresses.length === 0) return 'the host resolved to no address';
  for (const address of addresses) {
    const verdict = classifyAddress(address);
    if (!verdict.public) return describeBlockedAddress(address, verdict.range);
  }
  return null;
}

/** `dns.lookup` with `all: true`, injectable so tests can make any name resolve anywhere. */
export type Resolver = (
  hostname: string,
  options: LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemResolver: Resolver = (hostname, options, callback) => dns.lookup(hostname, options, callback);

/**
 * A `lookup` for `net.connect`/`tls.connect` that resolves the name and
 * refuses every answer holding a non-public address. It runs inside the
 * socket's own connect, so the addresses checked are the ones connected to:
 * no gap for DNS rebinding between a check and the connection.
 */
export function guardedLookup(resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const reason = blockedReason(addresses.map((a) => a.address));
      if (reason !== null) return callback(new BlockedAddressError(reason), '');
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}

/**
 * undici's connector with the SSRF rule of SPEC §5 applied at connect time:
 * names through `guardedLookup`, and IP literals (which Node connects to
 * without any lookup) checked before the socket is opened. With
 * `allowPrivateNetwork` it is undici's plain connector.
 */
export function createConnector(options: {
  allowPrivateNetwork: boolean;
  connectTimeoutMs: number;
  resolve?: Resolver;
}): buildConnector.connector {
  if (options.allowPrivateNetwork) return buildConnector({ timeout: options.connectTimeoutMs });
  const connect = buildConnector({ timeout: options.connectTimeoutMs, lookup: guardedLookup(options.resolve) });
  return (target, callback) => {
    const host = stripBrackets(target.hostname);
    if (isIP(host) !== 0) {
      const reason = blockedReason([host]);
      if (reason !== null) return callback(new BlockedAddressError(reason), null);
    }
    connect(target, callback);
  };
}
