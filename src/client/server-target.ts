import { isIPv4, isIPv6 } from 'node:net';
import { experimental, type ChannelOptions as GrpcChannelOptions } from '@grpc/grpc-js';

/**
 * How a channel reaches the replicas a server setting names (see `serverTarget` in the config):
 * the gRPC target, and the service config that balances calls over every replica and repeats the
 * calls that are safe to repeat when the one picked is going away.
 */

/** The resolver scheme of a comma-separated list of host:port (grpc-js's own `ipv4:` takes IP literals only). */
const LIST_SCHEME = 'keeper-list';

/**
 * Calls a client may repeat without asking: reads, and Push, which the server counts once per
 * mutation id. grpc-js repeats a call only until the server has answered anything, so a stream
 * that was under way is never replayed halfway (the sync engine and downloads resume those).
 */
const RETRIABLE = [
  { service: 'keeper.v1.VaultService', method: 'Status' },
  { service: 'keeper.v1.VaultService', method: 'List' },
  { service: 'keeper.v1.VaultService', method: 'Pull' },
  { service: 'keeper.v1.VaultService', method: 'Watch' },
  { service: 'keeper.v1.VaultService', method: 'Push' },
  { service: 'keeper.v1.ImageService', method: 'DownloadImage' },
  { service: 'keeper.v1.ImageService', method: 'ListImages' },
  { service: 'keeper.v1.AuthService', method: 'ListSessions' },
];

export const SERVICE_CONFIG = {
  loadBalancingConfig: [{ round_robin: {} }],
  methodConfig: [
    {
      name: RETRIABLE,
      // UNAVAILABLE only: the replica refused before doing anything (draining) or the connection
      // went (killed). Four tries span about a second and a half, time for the balancer to see a
      // dead replica and pick another.
      retryPolicy: { maxAttempts: 4, initialBackoff: '0.1s', maxBackoff: '1s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'] },
    },
  ],
};

/** An IPv4 literal host:port, or a bracketed IPv6 one ([::1]:7070). */
const IP_LITERAL = /^(?:(\d{1,3}(?:\.\d{1,3}){3})|\[([0-9a-fA-F:.]+)\]):\d{1,5}$/;

/** The grpc-js target for a server setting already checked by `serverTarget`. */
export function grpcTarget(server: string): string {
  if (server.includes(',')) {
    registerListResolver();
    return `${LIST_SCHEME}:///${server}`;
  }
  // An address of IP literals needs no name resolution: grpc-js's ipv4:/ipv6: schemes take it as it
  // is, where its DNS resolver (the default) would first set up a resolver (Node's dns, c-ares)
  // only to find the host is already an address (a couple of ms of every client command).
  const literal = IP_LITERAL.exec(server);
  if (literal?.[1] !== undefined && isIPv4(literal[1])) return `ipv4:${server}`;
  if (literal?.[2] !== undefined && isIPv6(literal[2])) return `ipv6:${server}`;
  return server;
}

/** Channel options every Keeper channel sets for balancing and retries. */
export function balancingOptions(): GrpcChannelOptions {
  return {
    'grpc.service_config': JSON.stringify(SERVICE_CONFIG),
    // The service config is ours; a DNS TXT record must not replace it (nor cost a lookup).
    'grpc.service_config_disable_resolution': 1,
    // A Push is retried only while its request is held; hold requests up to the message limit.
    'grpc.per_rpc_retry_buffer_size': 4 * 1024 * 1024,
  };
}

let registered = false;

function registerListResolver(): void {
  if (registered) return;
  registered = true;
  experimental.registerResolver(LIST_SCHEME, ListResolver);
}

/**
 * One endpoint per listed host:port. Host names are left to the connection to look up, so a
 * replica whose name stops resolving (a stopped container) fails alone and the balancer skips it.
 */
class ListResolver implements experimental.Resolver {
  private answered = false;
  private readonly endpoints: { addresses: { host: string; port: number }[] }[];

  constructor(
    target: experimental.GrpcUri,
    private readonly listener: experimental.ResolverListener,
  ) {
    this.endpoints = target.path.split(',').map((item) => {
      const index = item.lastIndexOf(':');
      return { addresses: [{ host: item.slice(0, index).replace(/^\[(.*)\]$/, '$1'), port: Number(item.slice(index + 1)) }] };
    });
  }

  updateResolution(): void {
    if (this.answered) return;
    this.answered = true;
    process.nextTick(() => this.listener(experimental.statusOrFromValue(this.endpoints), {}, null, ''));
  }

  destroy(): void {
    this.answered = false;
  }

  static getDefaultAuthority(target: experimental.GrpcUri): string {
    return target.path.split(',')[0]!;
  }
}
