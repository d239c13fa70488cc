import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { loadConfig, natsConfig } from '@openecm/config';
import { EVENTS, LEASE_EVENTS_STREAM, LISTINGS_STREAM, SERVICE_NAMES, qualify, type EventOf, type ServiceName } from '@openecm/contracts';
import { Bus, NatsConnectionProvider, consumeDurably, ensureEventStream, natsConnectionOptions, publishEvent, qualifiedStream } from '@openecm/messaging';
import { REDIS_URL, clearNamespaceKeys, startTestApp, testKey, waitFor } from '@openecm/testing';
import { JSONCodec, connect, nkeys, type NatsConnection } from 'nats';
import { servicePermissions } from '../src/permissions';
import { credentialVariable, renderServerConfig } from '../src/server-config';
import { operatorSetup } from './operator-jwt';
import { makeCertificates, startPrivateNats, type PrivateNats } from './private-nats';

const namespace = process.env['OPENECM_NAMESPACE'] as string;
const q = (subject: string) => qualify(subject, namespace);
const codec = JSONCodec<unknown>();
// nats-server reads a variable's value as configuration: a letter first, so none ever reads as a number
const passwords = Object.fromEntries(SERVICE_NAMES.map((s) => [s, `p${randomBytes(18).toString('hex')}`])) as Record<ServiceName, string>;
const passwordEnv = Object.fromEntries(SERVICE_NAMES.map((s) => [credentialVariable(s, 'password'), passwords[s]]));
const accounts = renderServerConfig({ auth: 'password', namespace });

/** The NATS variables of one service's environment; everything else is left as it is. */
type NatsEnv = Partial<Record<'NATS_URL' | 'NATS_USER' | 'NATS_PASSWORD' | 'NATS_NKEY_SEED_FILE' | 'NATS_CREDS_FILE' | 'NATS_TLS_CA' | 'NATS_TLS_CERT' | 'NATS_TLS_KEY', string>>;

/** Runs `work` with these NATS variables in the environment (the way a service started with them reads it). */
async function withEnv<T>(env: NatsEnv, work: () => T | Promise<T>): Promise<T> {
  const keys = Object.keys(loadConfig(natsConfig, {})).concat(Object.keys(natsConfig.schema.shape));
  const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
  for (const k of keys) delete process.env[k];
  Object.assign(process.env, env);
  try {
    return await work();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** A raw connection as the service makes it: its name, inbox and credentials from that environment. */
const connectWith = (service: ServiceName, env: NatsEnv) => connect({ ...natsConnectionOptions(service, loadConfig(natsConfig, env)), reconnect: false });

const leaseEvent = (): EventOf<'policy.lease.opened.v1'> => ({
  leaseId: '7b0c5a52-4a3e-4b8e-9f58-7d8f1a7d2c11',
  user: 'alice',
  endpoint: 'srv-app01',
  sessionId: 's-1',
  vault: 'password-safe',
  credentialName: 'srv-app01\\administrator',
  username: 'administrator',
  at: new Date().toISOString(),
  releaseAt: new Date(Date.now() + 60_000).toISOString(),
});

describe('the bus run with the generated permissions (user and password)', () => {
  let nats: PrivateNats;
  const open: NatsConnection[] = [];
  const as = (service: ServiceName, extra: NatsEnv = {}): NatsEnv => ({ NATS_URL: nats.url, NATS_USER: service, NATS_PASSWORD: passwords[service], ...extra });
  const connectAs = async (service: ServiceName) => {
    const nc = await connectWith(service, as(service));
    open.push(nc);
    return nc;
  };

  beforeAll(async () => {
    nats = await startPrivateNats({ accounts, env: passwordEnv });
  });

  afterAll(async () => {
    await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
    await nats?.stop();
  });

  it('refuses a client without credentials, and one with a wrong password', async () => {
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
    await expect(connectWith('vault-adapters', { ...as('vault-adapters'), NATS_PASSWORD: passwords['appliance-gateway'] })).rejects.toMatchObject({
      code: 'AUTHORIZATION_VIOLATION',
    });
  });

  it("refuses the gateway's user every token-cache subject, to call or to answer, and vault-adapters' replies; vault-adapters' user may call", async () => {
    const tokenCache = await connectAs('token-cache');
    const answering = tokenCache.subscribe(q('token.cache.abandon.v1'), { queue: 'token-cache', callback: (_e, m) => m.respond(codec.encode({ released: true })) });
    await tokenCache.flush();

    const vaultAdapters = await connectAs('vault-adapters');
    const reply = await vaultAdapters.request(q('token.cache.abandon.v1'), codec.encode({ vault: 'ps', user: 'alice' }), { timeout: 5000 });
    expect(codec.decode(reply.data)).toEqual({ released: true });

    const gateway = await connectAs('appliance-gateway');
    for (const subject of ['token.cache.abandon.v1', 'token.cache.get.v1', 'token.cache.delete.v1', 'token.keyring.check.v1']) {
      await expect(gateway.request(q(subject), codec.encode({}), { timeout: 5000 })).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    }
    for (const subject of [q('token.cache.abandon.v1'), `_INBOX.${namespace}.vault-adapters.>`]) {
      const sub = gateway.subscribe(subject);
      await expect((async () => {
        for await (const _ of sub) return 'delivered';
        return 'ended';
      })()).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    }
    expect(answering.getReceived()).toBe(1);
  });

  it('runs a service started with its credentials: token-cache answers vault-adapters over Nest, not the gateway', async () => {
    let app: INestApplication | undefined;
    const buses: Bus[] = [];
    try {
      const { AppModule } = await import('../../../apps/token-cache/src/app.module');
      ({ app } = await withEnv({ ...as('token-cache') }, () => {
        process.env['TOKEN_CACHE_KEYS'] = `k1:${testKey()}`;
        process.env['REDIS_URL'] = REDIS_URL;
        return startTestApp('token-cache', AppModule);
      }));
      const vaultAdapters = await withEnv(as('vault-adapters'), () => new Bus('vault-adapters'));
      const gateway = await withEnv(as('appliance-gateway'), () => new Bus('appliance-gateway'));
      buses.push(vaultAdapters, gateway);
      await expect(vaultAdapters.request('token.cache.delete.v1', {})).resolves.toEqual({ deleted: 0 });
      // NATS refuses the gateway's request, and the gateway hears so at once rather than waiting out its timeout
      const refusedAt = Date.now();
      await expect(gateway.request('token.cache.delete.v1', {}, { timeoutMs: 5_000 })).rejects.toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        message: expect.stringContaining('NATS user lacks the permission'),
      });
      expect(Date.now() - refusedAt).toBeLessThan(5_000);
    } finally {
      await Promise.all(buses.map((b) => b.onApplicationShutdown()));
      await app?.close();
      await clearNamespaceKeys();
    }
  });

  it('keeps the lease events: policy-approval publishes to JetStream, session-reporting consumes its durable, the gateway only looks', async () => {
    const providers: NatsConnectionProvider[] = [];
    let consumer: { stop(): Promise<void> } | undefined;
    let listingsConsumer: { stop(): Promise<void> } | undefined;
    try {
      const policy = await withEnv(as('policy-approval'), () => new NatsConnectionProvider('policy-approval'));
      const reporting = await withEnv(as('session-reporting'), () => new NatsConnectionProvider('session-reporting'));
      providers.push(policy, reporting);
      const stream = await ensureEventStream(await (await policy.get()).jetstreamManager(), LEASE_EVENTS_STREAM);
      expect(stream).toBe(qualifiedStream(LEASE_EVENTS_STREAM));
      const listings = await ensureEventStream(await (await policy.get()).jetstreamManager(), LISTINGS_STREAM);

      const received = new Promise<{ subject: string; data: unknown }>((resolve) => {
        void (async () => {
          const nc = await reporting.get();
          await ensureEventStream(await nc.jetstreamManager(), LEASE_EVENTS_STREAM);
          consumer = await consumeDurably(nc, stream, 'session-reporting', async (subject, data) => resolve({ subject, data }));
        })();
      });
      const event = leaseEvent();
      await publishEvent(await policy.jetstream(), 'policy.lease.opened.v1', event, `${event.leaseId}:opened`);
      await expect(received).resolves.toEqual({ subject: q('policy.lease.opened.v1'), data: event });

      // its filtered durable of the bus roles takes the revocations alone (the opened lease before is not delivered)
      const revocations: Array<{ subject: string; data: unknown }> = [];
      const revoked = EVENTS['policy.lease.revoked.v1'].strip().parse({ ...leaseEvent(), reason: 'left the company', by: 'admin', approvalId: null });
      const filtered = await consumeDurably(await reporting.get(), stream, 'session-reporting-revocations', async (subject, data) => void revocations.push({ subject, data }), { event: 'policy.lease.revoked.v1' });
      try {
        await publishEvent(await policy.jetstream(), 'policy.lease.revoked.v1', revoked, `${revoked.leaseId}:revoked`);
        await waitFor(() => revocations.length > 0, { what: 'the revocation on the filtered durable' });
        expect(revocations).toEqual([{ subject: q('policy.lease.revoked.v1'), data: revoked }]);
      } finally {
        await filtered.stop();
      }

      // the listings have their stream apart, consumed by session reporting alone
      const listed = EVENTS['policy.credentials.listed.v1'].parse({ eventId: randomUUID(), user: 'CORP\\alice', endpoint: 'srv-app01', credentials: [{ name: 'Administrator', vault: 'ps' }], at: new Date().toISOString() });
      const listedSeen = new Promise<unknown>((resolve) => {
        void (async () => {
          const nc = await reporting.get();
          await ensureEventStream(await nc.jetstreamManager(), LISTINGS_STREAM);
          listingsConsumer = await consumeDurably(nc, listings, 'session-reporting', async (_subject, data) => resolve(data));
        })();
      });
      await publishEvent(await policy.jetstream(), 'policy.credentials.listed.v1', listed, `${listed.eventId}:listed`);
      await expect(listedSeen).resolves.toEqual(listed);

      const gateway = await connectAs('appliance-gateway');
      const jsm = await gateway.jetstreamManager();
      expect((await jsm.streams.info(stream)).config.name).toBe(stream);
      await expect(jsm.streams.delete(stream)).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      await expect(gateway.jetstream().publish(q('policy.lease.opened.v1'), codec.encode(event))).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    } finally {
      await consumer?.stop();
      await listingsConsumer?.stop();
      await Promise.all(providers.map((p) => p.onApplicationShutdown()));
    }
  });
});

describe('the bus with NKeys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'openecm-nkeys-'));
  const users = Object.fromEntries(SERVICE_NAMES.map((s) => [s, nkeys.createUser()])) as Record<ServiceName, ReturnType<typeof nkeys.createUser>>;
  const seedFile = (service: ServiceName) => {
    const path = join(dir, `${service}.nk`);
    writeFileSync(path, users[service].getSeed(), { mode: 0o600 });
    return path;
  };
  let nats: PrivateNats;

  beforeAll(async () => {
    const env = Object.fromEntries(SERVICE_NAMES.map((s) => [credentialVariable(s, 'nkey'), users[s].getPublicKey()]));
    nats = await startPrivateNats({ accounts: renderServerConfig({ auth: 'nkey', namespace }), env });
  });

  afterAll(async () => {
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("signs each service in with its seed file, with that service's permissions and no other's", async () => {
    const vaultAdapters = await connectWith('vault-adapters', { NATS_URL: nats.url, NATS_NKEY_SEED_FILE: seedFile('vault-adapters') });
    const gateway = await connectWith('appliance-gateway', { NATS_URL: nats.url, NATS_NKEY_SEED_FILE: seedFile('appliance-gateway') });
    try {
      await expect(vaultAdapters.request(q('token.cache.delete.v1'), codec.encode({}), { timeout: 5000 })).rejects.toMatchObject({ code: '503' });
      await expect(gateway.request(q('token.cache.delete.v1'), codec.encode({}), { timeout: 5000 })).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      const stranger = join(dir, 'stranger.nk');
      writeFileSync(stranger, nkeys.createUser().getSeed());
      await expect(connectWith('vault-adapters', { NATS_URL: nats.url, NATS_NKEY_SEED_FILE: stranger })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
    } finally {
      await Promise.all([vaultAdapters.close(), gateway.close()]);
    }
  });
});

describe('the bus in an operator (JWT) setup, with .creds files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'openecm-creds-'));
  const operator = operatorSetup();
  const permissions = servicePermissions(namespace);
  const credsFile = (name: string, text: string) => {
    const path = join(dir, `${name}.creds`);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  let nats: PrivateNats;

  beforeAll(async () => {
    nats = await startPrivateNats({ accounts: operator.serverConfig, env: {} });
  });

  afterAll(async () => {
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("signs each service in with its .creds file, holding the generated permissions, and refuses an unknown account's", async () => {
    const as = (service: ServiceName) => connectWith(service, { NATS_URL: nats.url, NATS_CREDS_FILE: credsFile(service, operator.creds(service, permissions[service])) });
    const [tokenCache, vaultAdapters, gateway] = await Promise.all([as('token-cache'), as('vault-adapters'), as('appliance-gateway')]);
    try {
      tokenCache.subscribe(q('token.cache.put.v1'), { queue: 'token-cache', callback: (_e, m) => m.respond(codec.encode({ stored: true })) });
      await tokenCache.flush();
      const reply = await vaultAdapters.request(q('token.cache.put.v1'), codec.encode({}), { timeout: 5000 });
      expect(codec.decode(reply.data)).toEqual({ stored: true });
      await expect(gateway.request(q('token.cache.put.v1'), codec.encode({}), { timeout: 5000 })).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      await expect(connectWith('vault-adapters', { NATS_URL: nats.url, NATS_CREDS_FILE: credsFile('stranger', operator.strangerCreds()) })).rejects.toMatchObject({
        code: 'AUTHORIZATION_VIOLATION',
      });
    } finally {
      await Promise.all([tokenCache.close(), vaultAdapters.close(), gateway.close()]);
    }
  });
});

describe('the bus over TLS, with client certificates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'openecm-tls-'));
  let nats: PrivateNats;
  let plain: PrivateNats;
  let certs: ReturnType<typeof makeCertificates>;
  const as = (service: ServiceName, url: string, tls: NatsEnv): NatsEnv => ({ NATS_URL: url, NATS_USER: service, NATS_PASSWORD: passwords[service], ...tls });

  beforeAll(async () => {
    certs = makeCertificates(dir);
    nats = await startPrivateNats({ accounts, env: passwordEnv, tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca } });
    plain = await startPrivateNats({ accounts, env: passwordEnv });
  });

  afterAll(async () => {
    await nats?.stop();
    await plain?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects a service trusting the CA and showing its certificate, and carries its requests', async () => {
    const full = { NATS_TLS_CA: certs.ca, NATS_TLS_CERT: certs.clientCert, NATS_TLS_KEY: certs.clientKey };
    const tokenCache = await connectWith('token-cache', as('token-cache', nats.url, full));
    const vaultAdapters = await connectWith('vault-adapters', as('vault-adapters', nats.url, full));
    try {
      tokenCache.subscribe(q('token.cache.delete.v1'), { callback: (_e, m) => m.respond(codec.encode({ deleted: 2 })) });
      await tokenCache.flush();
      const reply = await vaultAdapters.request(q('token.cache.delete.v1'), codec.encode({}), { timeout: 5000 });
      expect(codec.decode(reply.data)).toEqual({ deleted: 2 });
    } finally {
      await Promise.all([tokenCache.close(), vaultAdapters.close()]);
    }
  });

  it('refuses a client that does not trust the CA, one without a client certificate, and TLS where the server offers none', async () => {
    const client = { NATS_TLS_CERT: certs.clientCert, NATS_TLS_KEY: certs.clientKey };
    const untrusted = /unable to verify the first certificate/;
    await expect(connectWith('vault-adapters', as('vault-adapters', nats.url, client))).rejects.toThrow(untrusted);
    await expect(connectWith('vault-adapters', as('vault-adapters', nats.url, { ...client, NATS_TLS_CA: certs.otherCa }))).rejects.toThrow(untrusted);
    await expect(connectWith('vault-adapters', as('vault-adapters', nats.url, { NATS_TLS_CA: certs.ca }))).rejects.toThrow(
      // TLS 1.3: the server's alert may race the reset of the connection it closes
      /alert (bad certificate|certificate required)|ECONNRESET/,
    );
    await expect(connectWith('vault-adapters', as('vault-adapters', plain.url, { NATS_TLS_CA: certs.ca }))).rejects.toMatchObject({ code: 'SERVER_OPT_NA' });
  });
});
