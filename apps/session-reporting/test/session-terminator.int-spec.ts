import type { INestApplication } from '@nestjs/common';
import { APPLIANCE_SEAL_CONTEXT, LEASE_EVENTS_STREAM, type EventOf } from '@openecm/contracts';
import { sealTo } from '@openecm/crypto';
import { publishEvent, qualifiedStream, type Bus } from '@openecm/messaging';
import { applianceSessionsTerminated } from '@openecm/telemetry';
import { NATS_URL, createTestDatabase, deleteNamespaceStreams, startTestApp, testBus, testKey, waitFor } from '@openecm/testing';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import { ApplianceSite } from '../../../tools/appliance-sim/src/site';
import { DURABLE_NAME } from '../src/appliance/session-terminator.consumer';

process.env['NATS_URL'] = NATS_URL;
process.env['APPLIANCE_SETTINGS_KEYS'] = `r1:${testKey()}`;
jest.setTimeout(60_000);

const CLIENT_SECRET = 'canary-appliance-secret-52be0d4a';

/** A revocation published to the lease event stream ends its session at the appliance simulator, over HTTP. */
describe('session-reporting: a revoked lease ends its appliance session', () => {
  let db: { url: string; drop: () => Promise<void> };
  let apps: INestApplication[] = [];
  let bus: Bus;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let site: ApplianceSite;
  let siteUrl: string;
  const stream = qualifiedStream(LEASE_EVENTS_STREAM);

  const start = async (): Promise<void> => {
    const { AppModule } = await import('../src/app.module');
    apps.push((await startTestApp('session-reporting', AppModule)).app);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    site = new ApplianceSite({ clientId: 'openecm-reporting', clientSecret: CLIENT_SECRET });
    siteUrl = await site.listen();
    nc = await connect({ servers: NATS_URL });
    jsm = await nc.jetstreamManager();
    await start();
    bus = testBus();
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    apps = [];
    await bus?.onApplicationShutdown();
    await nc?.close();
    await site?.close();
    await deleteNamespaceStreams();
    await db?.drop();
  });

  const revoke = (sessionId: string) => {
    const event: EventOf<'policy.lease.revoked.v1'> = {
      leaseId: randomUUID(),
      user: 'CORP\\alice',
      endpoint: 'srv-app01',
      sessionId,
      vault: 'ps',
      credentialName: 'srv-app01\\Administrator',
      username: 'Administrator',
      at: new Date().toISOString(),
      reason: 'left the company',
      by: 'CORP\\admin',
      approvalId: null,
    };
    return publishEvent(nc.jetstream(), 'policy.lease.revoked.v1', event, `${event.leaseId}:revoked`);
  };
  const running = (lsid = ApplianceSite.newLsid()) => {
    site.startSession({ lsid, startTime: Math.floor(Date.now() / 1000), jumpGroup: { id: 7, name: 'Servers' }, publicSite: { id: 1, name: 'Default' }, jumpoint: 'dc1', hostname: 'srv-app01', username: 'alice' });
    return lsid;
  };
  const counted = async (outcome: string) => (await applianceSessionsTerminated.get()).values.find((v) => v.labels['outcome'] === outcome)?.value ?? 0;
  const callsFor = (lsid: string) => site.commandCalls.filter((c) => c.lsid === lsid);

  /** Every message of the stream so far was delivered to the revocations durable and acknowledged. */
  const drained = async () => {
    const last = (await jsm.streams.info(stream)).state.last_seq;
    return waitFor(async () => {
      const info = await jsm.consumers.info(stream, DURABLE_NAME);
      return info.delivered.stream_seq >= last && info.num_pending === 0 && info.num_ack_pending === 0 && info;
    }, { what: `the revocations durable to acknowledge up to ${last}`, timeoutMs: 20_000 });
  };

  it('takes policy.lease.revoked.v1 alone, through a durable of its own', async () => {
    const info = await jsm.consumers.info(stream, DURABLE_NAME);
    expect(info.config).toMatchObject({ durable_name: DURABLE_NAME, filter_subject: `${process.env['OPENECM_NAMESPACE']}.policy.lease.revoked.v1`, ack_policy: 'explicit' });
    expect(info.config.max_deliver).toBeGreaterThan(1);
  });

  it('acknowledges a revocation and calls nothing while no appliance connection is configured', async () => {
    const before = await counted('unconfigured');
    const lsid = running();
    await revoke(lsid);
    const info = await drained();
    expect(info.num_redelivered).toBe(0);
    expect(await counted('unconfigured')).toBe(before + 1);
    expect(site.commandCalls).toEqual([]);
    expect(site.sessions.get(lsid)?.endTime).toBeNull();
  });

  it('terminates the session of a revoked lease at the appliance once a connection is configured', async () => {
    const settings = { url: siteUrl, clientId: 'openecm-reporting', clientSecret: CLIENT_SECRET, pollIntervalSeconds: 3600, allowInsecureHttp: true };
    await bus.request('reporting.appliance.put.v1', { connection: await sealTo(await bus.request('reporting.sealing-key.get.v1', {}), settings, APPLIANCE_SEAL_CONTEXT) });
    const before = await counted('terminated');
    const lsid = running();
    await revoke(lsid);
    await waitFor(() => site.terminated.includes(lsid), { what: `terminate_session for ${lsid}`, timeoutMs: 20_000 });
    await drained();
    expect(callsFor(lsid)).toEqual([{ action: 'terminate_session', lsid, answer: 'success' }]);
    expect(site.sessions.get(lsid)?.endTime).not.toBeNull();
    expect(await counted('terminated')).toBe(before + 1);
  });

  it('acknowledges and counts a refusal of the appliance (a session it does not know), without asking again', async () => {
    const before = await counted('refused');
    const { num_redelivered: redelivered } = await jsm.consumers.info(stream, DURABLE_NAME);
    const unknown = ApplianceSite.newLsid();
    await revoke(unknown);
    await waitFor(() => callsFor(unknown).length > 0, { what: `terminate_session for ${unknown}`, timeoutMs: 20_000 });
    const info = await drained();
    expect(callsFor(unknown)).toEqual([{ action: 'terminate_session', lsid: unknown, answer: 'error' }]);
    expect(info.num_redelivered).toBe(redelivered);
    expect(await counted('refused')).toBe(before + 1);
  });

  it('skips a session id that is not an appliance lsid (32 hex characters), calling nothing', async () => {
    const before = await counted('skipped');
    const calls = site.commandCalls.length;
    const sessionId = `pra-${randomUUID()}`;
    await revoke(sessionId);
    await drained();
    expect(await counted('skipped')).toBe(before + 1);
    expect(site.commandCalls).toHaveLength(calls);
  });

  it('terminates each revocation once with two instances taking the durable', async () => {
    await start();
    const lsids = Array.from({ length: 8 }, () => running());
    await Promise.all(lsids.map((lsid) => revoke(lsid)));
    await waitFor(() => lsids.every((lsid) => site.terminated.includes(lsid)), { what: 'every session terminated', timeoutMs: 20_000 });
    await drained();
    for (const lsid of lsids) expect([lsid, callsFor(lsid).length]).toEqual([lsid, 1]);
  });

  it('leaves a revocation unacknowledged while the appliance is out of reach, and terminates its session once it answers', async () => {
    const before = await counted('failed');
    const { hostname, port } = new URL(siteUrl);
    await site.close();
    const lsid = ApplianceSite.newLsid();
    await revoke(lsid);
    await waitFor(async () => (await counted('failed')) > before, { what: 'a failed attempt', timeoutMs: 20_000 });
    expect((await jsm.consumers.info(stream, DURABLE_NAME)).num_ack_pending).toBe(1);

    // the appliance back at the same address, the session still running there
    site = new ApplianceSite({ clientId: 'openecm-reporting', clientSecret: CLIENT_SECRET });
    running(lsid);
    await site.listen(Number(port), hostname);
    await waitFor(() => site.terminated.includes(lsid), { what: `terminate_session for ${lsid} once the appliance answers`, timeoutMs: 30_000 });
    await drained();
    expect(await counted('failed')).toBe(before + 1);
    expect(callsFor(lsid)).toEqual([{ action: 'terminate_session', lsid, answer: 'success' }]);
  });
});
