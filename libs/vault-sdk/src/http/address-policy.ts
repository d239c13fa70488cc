import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { buildConnector } from 'undici';

/** Why an address is not called. */
export type AddressRefusal = 'loopback' | 'link-local' | 'cloud metadata' | 'unspecified' | 'multicast' | 'infrastructure';

/**
 * A vault URL led to an address the broker does not call. The message names the host as the operator entered
 * it and the kind of address, never the answer of a port: a refused address fails before any packet is sent.
 */
export class VaultAddressRefusedError extends Error {
  readonly code = 'EVAULTADDRESS';
  constructor(
    readonly host: string,
    readonly refusal: AddressRefusal,
  ) {
    super(
      refusal === 'infrastructure'
        ? `${host} is one of the broker's own NATS, PostgreSQL or Redis endpoints, which a vault URL may never name`
        : `${host} leads to a ${refusal} address, which a vault URL may name only when VAULT_ALLOWED_ADDRESSES lists it`,
    );
    this.name = 'VaultAddressRefusedError';
  }
}

/** Ranges refused unless allow-listed, most specific first so the reason names the narrowest one. */
const SPECIAL_RANGES: ReadonlyArray<[AddressRefusal, ReadonlyArray<[string, number, 'ipv4' | 'ipv6']>]> = [
  [
    'cloud metadata',
    [
      ['169.254.169.254', 32, 'ipv4'], // AWS, Azure, GCP, OpenStack, Oracle
      ['169.254.170.2', 32, 'ipv4'], // AWS ECS task metadata
      ['100.100.100.200', 32, 'ipv4'], // Alibaba Cloud
      ['fd00:ec2::254', 128, 'ipv6'], // AWS over IPv6
    ],
  ],
  ['loopback', [['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']]],
  ['link-local', [['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']]],
  ['unspecified', [['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6']]],
  ['multicast', [['224.0.0.0', 4, 'ipv4'], ['ff00::', 8, 'ipv6']]],
];

function family(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

/** `::ffff:127.0.0.1` is 127.0.0.1; the bracketed `[::1]` of a URL is `::1`. */
export function normaliseAddress(address: string): string {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  return (mapped?.[1] ?? bare).toLowerCase();
}

export interface AddressPolicyOptions {
  /** VAULT_ALLOWED_ADDRESSES: IPs or CIDR blocks a vault may be at although they are special. */
  allowed: readonly string[];
  /** The broker's own endpoints as URLs (nats://, postgres://, redis://): refused at their port whatever `allowed` says. */
  infrastructure: readonly string[];
  /** Name resolution; the system resolver unless a test gives another. */
  resolve?: (host: string) => Promise<string[]>;
}

async function systemResolve(host: string): Promise<string[]> {
  const answers = await lookup(host, { all: true, verbatim: true });
  return answers.map((a) => a.address);
}

/**
 * Where a vault may be reached. Every connection a vault client opens resolves its host here and connects to
 * an address this policy accepted, so a name that resolves elsewhere between the check and the connect (DNS
 * rebinding) cannot lead a vault call to the metadata service, a loopback admin port or the broker's own bus.
 */
export class VaultAddressPolicy {
  private readonly allowed = new BlockList();
  private readonly ranges: Array<[AddressRefusal, BlockList]>;
  private readonly resolveHost: (host: string) => Promise<string[]>;
  private readonly infrastructureUrls: readonly string[];
  private infrastructure?: Promise<Set<string>>;

  constructor(options: AddressPolicyOptions) {
    for (const entry of options.allowed) {
      const [address = '', prefix] = entry.split('/');
      const normal = normaliseAddress(address);
      if (prefix === undefined) this.allowed.addAddress(normal, family(normal));
      else this.allowed.addSubnet(normal, Number(prefix), family(normal));
    }
    this.ranges = SPECIAL_RANGES.map(([reason, subnets]) => {
      const list = new BlockList();
      for (const [net, prefix, type] of subnets) list.addSubnet(net, prefix, type);
      return [reason, list];
    });
    this.resolveHost = options.resolve ?? systemResolve;
    this.infrastructureUrls = options.infrastructure;
  }

  /** The reason `address:port` is refused, or undefined when a vault may be there. */
  async refusal(address: string, port: number): Promise<AddressRefusal | undefined> {
    const normal = normaliseAddress(address);
    if ((await this.infrastructureEndpoints()).has(`${normal}|${port}`)) return 'infrastructure';
    const type = family(normal);
    if (this.allowed.check(normal, type)) return undefined;
    return this.ranges.find(([, list]) => list.check(normal, type))?.[0];
  }

  /** The first address of `host` that a vault may be at; throws VaultAddressRefusedError when there is none. */
  async pick(host: string, port: number): Promise<string> {
    const bare = normaliseAddress(host);
    const addresses = isIP(bare) ? [bare] : await this.resolveHost(host);
    let first: AddressRefusal | undefined;
    for (const address of addresses) {
      const refusal = await this.refusal(address, port);
      if (!refusal) return normaliseAddress(address);
      first ??= refusal;
    }
    // no address at all is a resolver failure, which the resolver itself reports as ENOTFOUND
    throw new VaultAddressRefusedError(host, first ?? 'unspecified');
  }

  /** Checks a URL as a connection would use it: the resolved addresses at the URL's port. */
  async check(url: string): Promise<void> {
    const parsed = new URL(url);
    await this.pick(parsed.hostname, portOf(parsed));
  }

  /** An undici connector that connects only to addresses this policy accepted. */
  connector(options: buildConnector.BuildOptions): buildConnector.connector {
    const base = buildConnector(options);
    return (opts, callback) => {
      const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
      this.pick(opts.hostname, port).then(
        // the Host header and the TLS server name stay the URL's host; only the address is pinned
        (address) => base({ ...opts, hostname: address }, callback),
        (error: Error) => callback(error, null),
      );
    };
  }

  private infrastructureEndpoints(): Promise<Set<string>> {
    this.infrastructure ??= (async () => {
      const endpoints = new Set<string>();
      for (const raw of this.infrastructureUrls.flatMap((u) => u.split(',')).map((u) => u.trim()).filter(Boolean)) {
        let parsed: URL;
        try {
          parsed = new URL(raw.includes('://') ? raw : `nats://${raw}`);
        } catch {
          continue;
        }
        const port = portOf(parsed);
        const addresses = isIP(normaliseAddress(parsed.hostname))
          ? [parsed.hostname]
          : await this.resolveHost(parsed.hostname).catch(() => [] as string[]);
        for (const address of addresses) endpoints.add(`${normaliseAddress(address)}|${port}`);
      }
      return endpoints;
    })();
    return this.infrastructure;
  }
}

const DEFAULT_PORTS: Record<string, number> = { 'https:': 443, 'http:': 80, 'nats:': 4222, 'tls:': 4222, 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379, 'rediss:': 6379 };

function portOf(url: URL): number {
  return url.port ? Number(url.port) : (DEFAULT_PORTS[url.protocol] ?? 0);
}
