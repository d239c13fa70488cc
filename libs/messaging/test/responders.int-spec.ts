import { Controller, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ClientProxyFactory, NatsRecordBuilder, ServerNats, Transport } from '@nestjs/microservices';
import { loadConfig, natsConfig } from '@openecm/config';
import { EVENTS, LEASE_EVENTS_STREAM, LISTINGS_STREAM, type EventSubject, type ParsedRequestOf, type ReplyOf } from '@openecm/contracts';
import { connect, type NatsConnection } from 'nats';
import { firstValueFrom } from 'rxjs';
import { randomUUID } from 'node:crypto';
import { Bus, DrainingNatsServer, Handles, MessagingModule, ensureEventStream, ensureStream, publishEvent, qualifiedStream, qualifiedSubject } from '../src';

/** A handler that holds each request until the test lets it go, and says which instance answered. */
const held: Array<{ by: string; release: () => void }> = [];
let instanceName = '';

@Controller()
class SlowController {
  private readonly name = instanceName;

  @Handles('policy.credentials.list.v1')
  async list(req: ParsedRequestOf<'policy.credentials.list.v1'>): Promise<ReplyOf<'policy.credentials.list.v1'>> {
    if (req.user === 'hold') await new Promise<void>((release) => held.push({ by: this.name, release }));
    if (req.user === 'refused') throw Object.assign(new Error('unexpected'), { name: 'Boom' });
    // the instance that answered, named where a list names a vault, and the user it was asked for
    return { credentials: [], pending: [{ vault: this.name, reason: req.user }] };
  }
}

@Module({ imports: [MessagingModule], controllers: [SlowController] })
class SlowModule {}

const servers = [loadConfig(natsConfig).NATS_URL];

/** An instance answering with the given transport: this release's by default, or Nest's own (what an earlier release ran). */
async function startInstance<S extends ServerNats>(name: string, server: S): Promise<{ app: INestApplication; server: S }> {
  instanceName = name;
  const ref = await Test.createTestingModule({ imports: [SlowModule] }).compile();
  const app = ref.createNestApplication({ logger: false });
  app.connectMicroservice({ strategy: server });
  await app.init();
  await app.startAllMicroservices();
  return { app, server };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setImmediate(r));
}

describe('an instance shutting down over real NATS', () => {
  it('answers the requests it holds, and the other instance takes every new one', async () => {
    const draining = () => new DrainingNatsServer({ servers, queue: 'drain-test' }, 5_000);
    const first = await startInstance('first', draining());
    const second = await startInstance('second', draining());
    const bus = new Bus();
    try {
      // Both instances are in the queue group: send until the first one holds a request.
      const inFlight: Array<Promise<ReplyOf<'policy.credentials.list.v1'>>> = [];
      while (!held.some((h) => h.by === 'first')) {
        inFlight.push(bus.request('policy.credentials.list.v1', { user: 'hold', endpoint: 'e' }));
        await until(() => held.length >= inFlight.length);
      }
      const closing = first.app.close();
      await first.server.left;
      // While it drains, new requests are answered by the other instance only.
      const during = await Promise.all(Array.from({ length: 10 }, () => bus.request('policy.credentials.list.v1', { user: 'u', endpoint: 'e' })));
      expect(new Set(during.map((r) => r.pending[0]?.vault))).toEqual(new Set(['second']));
      for (const { release } of held.splice(0)) release();
      const answers = await Promise.all(inFlight);
      expect(answers.every((a) => a.pending[0]?.vault === 'first' || a.pending[0]?.vault === 'second')).toBe(true);
      expect(answers.some((a) => a.pending[0]?.vault === 'first')).toBe(true);
      await closing;
    } finally {
      for (const { release } of held.splice(0)) release();
      await bus.onApplicationShutdown();
      await second.app.close();
    }
  });
});

describe('requests on the wire (real NATS)', () => {
  it("are answered across releases: this Bus by Nest's own transport, and Nest's client by this responder", async () => {
    const bus = new Bus();
    const earlierClient = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers } });
    const earlier = (await startInstance('earlier', new ServerNats({ servers, queue: 'wire-earlier' }))).app;
    try {
      await expect(bus.request('policy.credentials.list.v1', { user: 'alice', endpoint: 'e' })).resolves.toEqual({ credentials: [], pending: [{ vault: 'earlier', reason: 'alice' }] });
      // the handler's typed error travels in the envelope, as before
      await expect(bus.request('policy.credentials.list.v1', { user: 'refused', endpoint: 'e' })).rejects.toMatchObject({ code: 'INTERNAL' });
      await earlier.close();

      const current = (await startInstance('current', new DrainingNatsServer({ servers, queue: 'wire-current' }, 5_000))).app;
      try {
        const packet = new NatsRecordBuilder({ user: 'bob', endpoint: 'e' }).build();
        const reply = await firstValueFrom(earlierClient.send(qualifiedSubject('policy.credentials.list.v1'), packet));
        expect(reply).toEqual({ ok: true, data: { credentials: [], pending: [{ vault: 'current', reason: 'bob' }] } });
        // and many at once, each answered with its own reply
        const users = Array.from({ length: 50 }, (_, i) => `user-${i}`);
        const answers = await Promise.all(users.map((user) => bus.request('policy.credentials.list.v1', { user, endpoint: 'e' })));
        expect(answers.map((a) => a.pending[0]?.reason)).toEqual(users);
      } finally {
        await current.close();
      }
      // nobody answers the subject now: a clear error, not a hang
      await expect(bus.request('policy.credentials.list.v1', { user: 'alice', endpoint: 'e' }, { timeoutMs: 1_000 })).rejects.toMatchObject({
        code: expect.stringMatching(/^(SERVICE_UNAVAILABLE|UPSTREAM_TIMEOUT)$/),
      });
    } finally {
      await earlierClient.close();
      await bus.onApplicationShutdown();
    }
  });
});

describe('the event streams (real JetStream)', () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connect({ servers });
  });
  afterAll(async () => {
    const jsm = await nc.jetstreamManager();
    for (const base of [LEASE_EVENTS_STREAM, LISTINGS_STREAM]) await jsm.streams.delete(qualifiedStream(base)).catch(() => undefined);
    await nc.close();
  });

  it('take the listings out of a lease stream of an earlier release, which keeps what it already holds', async () => {
    const jsm = await nc.jetstreamManager();
    const js = nc.jetstream();
    // an earlier release kept every event in the lease stream
    await ensureStream(jsm, LEASE_EVENTS_STREAM, Object.keys(EVENTS) as EventSubject[]);
    const listed = () => ({ eventId: randomUUID(), user: 'alice', endpoint: 'srv-app01', credentials: [{ name: 'Administrator', vault: 'ps' }], at: new Date().toISOString() });
    const before = listed();
    await publishEvent(js, 'policy.credentials.listed.v1', before, before.eventId);

    await ensureEventStream(jsm, LEASE_EVENTS_STREAM);
    await ensureEventStream(jsm, LISTINGS_STREAM);
    const leases = await jsm.streams.info(qualifiedStream(LEASE_EVENTS_STREAM));
    expect(leases.config.subjects).not.toContain(qualifiedSubject('policy.credentials.listed.v1'));
    expect(leases.config.subjects).toContain(qualifiedSubject('policy.lease.opened.v1'));
    expect(leases.state.messages).toBe(1);

    const after = listed();
    await publishEvent(js, 'policy.credentials.listed.v1', after, after.eventId);
    const listings = await jsm.streams.info(qualifiedStream(LISTINGS_STREAM));
    expect(listings.config.subjects).toEqual([qualifiedSubject('policy.credentials.listed.v1')]);
    expect(listings.state.messages).toBe(1);
    expect((await jsm.streams.info(qualifiedStream(LEASE_EVENTS_STREAM))).state.messages).toBe(1);
    // a day of listings is kept, the lease lifecycle a month
    expect(listings.config.max_age).toBe(24 * 3600 * 1e9);
    expect(leases.config.max_age).toBe(30 * 24 * 3600 * 1e9);
  });
});
