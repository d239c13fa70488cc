import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VaultAddressPolicy, VaultAddressRefusedError, normaliseAddress } from './address-policy';
import { VaultHttp, VaultTransportError } from './vault-http';

const names: Record<string, string[]> = {
  'vault.corp.example': ['10.20.0.5'],
  'sneaky.corp.example': ['127.0.0.1'],
  'metadata.corp.example': ['169.254.169.254'],
  // a name with a bad record among good ones: the good one is used, never the bad one
  'mixed.corp.example': ['169.254.169.254', '10.20.0.6'],
  'nats.internal': ['10.0.0.4'],
};
const resolve = async (host: string): Promise<string[]> => {
  const found = names[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found;
};

function policy(allowed: string[] = [], infrastructure: string[] = []): VaultAddressPolicy {
  return new VaultAddressPolicy({ allowed, infrastructure, resolve });
}

async function refusalOf(work: Promise<unknown>): Promise<VaultAddressRefusedError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VaultAddressRefusedError);
  return error as VaultAddressRefusedError;
}

describe('VaultAddressPolicy', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['169.254.169.254', 'cloud metadata'],
    ['100.100.100.200', 'cloud metadata'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['169.254.10.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
  ])('refuses %s as %s', async (address, reason) => {
    expect(await policy().refusal(address, 443)).toBe(reason);
  });

  it('lets a vault be on the private network, where vaults live', async () => {
    for (const address of ['10.20.0.5', '172.16.4.4', '192.168.1.10', 'fd12:3456::10', '203.0.113.7']) {
      expect(await policy().refusal(address, 443)).toBeUndefined();
    }
  });

  it('allows a special address the operator lists, by address or by block', async () => {
    expect(await policy(['127.0.0.1']).refusal('127.0.0.1', 8443)).toBeUndefined();
    expect(await policy(['127.0.0.1']).refusal('127.0.0.2', 8443)).toBe('loopback');
    expect(await policy(['169.254.0.0/16']).refusal('169.254.3.3', 443)).toBeUndefined();
    expect(await policy(['::1']).refusal('[::1]', 443)).toBeUndefined();
  });

  it("never lets a vault URL name the broker's own NATS, PostgreSQL or Redis, allow-listed or not", async () => {
    const p = policy(['127.0.0.1'], ['nats://127.0.0.1:4222', 'postgres://postgres@127.0.0.1:5432/openecm', 'redis://127.0.0.1:6379', 'nats://nats.internal']);
    expect(await p.refusal('127.0.0.1', 4222)).toBe('infrastructure');
    expect(await p.refusal('127.0.0.1', 5432)).toBe('infrastructure');
    expect(await p.refusal('127.0.0.1', 6379)).toBe('infrastructure');
    expect(await p.refusal('10.0.0.4', 4222)).toBe('infrastructure');
    expect(await p.refusal('127.0.0.1', 8443)).toBeUndefined();
    expect((await refusalOf(p.check('http://127.0.0.1:5432/'))).message).toMatch(/broker's own NATS, PostgreSQL or Redis/);
  });

  it('checks the addresses a name resolves to, and connects only to an accepted one', async () => {
    await expect(policy().pick('vault.corp.example', 443)).resolves.toBe('10.20.0.5');
    await expect(policy().pick('mixed.corp.example', 443)).resolves.toBe('10.20.0.6');
    const refused = await refusalOf(policy().pick('sneaky.corp.example', 443));
    expect(refused).toMatchObject({ host: 'sneaky.corp.example', refusal: 'loopback', code: 'EVAULTADDRESS' });
    expect(refused.message).toBe('sneaky.corp.example leads to a loopback address, which a vault URL may name only when VAULT_ALLOWED_ADDRESSES lists it');
    expect((await refusalOf(policy().check('https://metadata.corp.example/latest'))).refusal).toBe('cloud metadata');
  });

  it('reads IPv4-mapped and bracketed IPv6 addresses as the address they are', () => {
    expect(normaliseAddress('::FFFF:10.1.2.3')).toBe('10.1.2.3');
    expect(normaliseAddress('[fe80::1]')).toBe('fe80::1');
  });
});

describe('VaultHttp with an address policy', () => {
  let server: Server;
  let port: number;
  let connections = 0;
  const transports: VaultHttp[] = [];

  beforeAll(async () => {
    server = createServer((_req, res) => res.end('vault'));
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await Promise.all(transports.map((t) => t.close()));
    await new Promise((done) => server.close(done));
  });

  const transport = (addressPolicy: VaultAddressPolicy): VaultHttp => {
    const http = new VaultHttp({ vault: 'Test Vault', timeoutMs: 2_000, retry: { attempts: 3, baseDelayMs: 1 }, addressPolicy });
    transports.push(http);
    return http;
  };

  it('refuses a loopback vault before any packet is sent, without retrying', async () => {
    const before = connections;
    const error = await transport(policy()).send({ op: 'GET thing', method: 'GET', url: `http://127.0.0.1:${port}/thing` }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VaultTransportError);
    expect(error).toMatchObject({ failure: 'refused-address', details: { attempts: 1, transportCode: 'EVAULTADDRESS' } });
    expect((error as Error).message).toMatch(/^127\.0\.0\.1 leads to a loopback address/);
    expect(connections).toBe(before);
  });

  it('calls it once the operator allows the address', async () => {
    const answer = await transport(policy(['127.0.0.1'])).send({ op: 'GET thing', method: 'GET', url: `http://127.0.0.1:${port}/thing` });
    expect(answer).toMatchObject({ status: 200, text: 'vault' });
  });

  it('refuses a name that resolves to loopback (the URL looks harmless, the address is not)', async () => {
    const viaName = new VaultAddressPolicy({ allowed: [], infrastructure: [], resolve: async () => ['127.0.0.1'] });
    const before = connections;
    const error = await transport(viaName).send({ op: 'GET thing', method: 'GET', url: `http://vault.corp.example:${port}/thing` }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ failure: 'refused-address' });
    expect(connections).toBe(before);
  });
});
