import type { INestApplication } from '@nestjs/common';
import { APPLIANCE_SEAL_CONTEXT, type ApplianceConnectionInput } from '@openecm/contracts';
import { sealTo } from '@openecm/crypto';
import type { Bus } from '@openecm/messaging';
import { NATS_URL, createTestDatabase, deleteNamespaceStreams, startTestApp, testBus, testKey, waitFor } from '@openecm/testing';
import { Client } from 'pg';
import { generate as selfSigned } from 'selfsigned';
import { ApplianceSite } from '../../../tools/appliance-sim/src/site';
import { ReportPollProcessor } from '../src/appliance/report-poll.processor';

process.env['NATS_URL'] = NATS_URL;
process.env['APPLIANCE_SETTINGS_KEYS'] = `r1:${testKey()}`;
jest.setTimeout(60_000);

const CLIENT_SECRET = 'canary-appliance-secret-7f3a9c1e';

/** The appliance connection and the report poller against the appliance simulator's HTTP side. */
describe('session-reporting: the appliance connection and its report poller', () => {
  let db: { url: string; drop: () => Promise<void> };
  let pg: Client;
  let apps: INestApplication[] = [];
  let bus: Bus;
  let site: ApplianceSite;
  let siteUrl: string;

  const start = async (): Promise<INestApplication> => {
    const { AppModule } = await import('../src/app.module');
    const { app } = await startTestApp('session-reporting', AppModule);
    apps.push(app);
    return app;
  };
  const stop = async (app: INestApplication) => {
    await app.close();
    apps = apps.filter((a) => a !== app);
  };
  /** A poll now; a scheduled poll running at the same moment holds the connection's lock, so wait for it. */
  const pollNow = (app: INestApplication = apps[0] as INestApplication) =>
    waitFor(async () => {
      const outcome = await app.get(ReportPollProcessor).poll('default');
      return outcome.outcome !== 'busy' && outcome;
    }, { what: 'a poll of its own', timeoutMs: 20_000 });

  beforeAll(async () => {
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    site = new ApplianceSite({ clientId: 'openecm-reporting', clientSecret: CLIENT_SECRET });
    siteUrl = await site.listen();
    await start();
    bus = testBus();
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await bus?.onApplicationShutdown();
    await site?.close();
    await pg?.end();
    await deleteNamespaceStreams();
    await db?.drop();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const put = async (input: Partial<ApplianceConnectionInput>) => {
    const settings = { url: siteUrl, clientId: 'openecm-reporting', clientSecret: CLIENT_SECRET, pollIntervalSeconds: 3600, allowInsecureHttp: true, ...input };
    return bus.request('reporting.appliance.put.v1', { connection: await sealTo(await bus.request('reporting.sealing-key.get.v1', {}), settings, APPLIANCE_SEAL_CONTEXT) });
  };
  const session = (lsid: string, startTime: number) =>
    site.startSession({
      lsid,
      startTime,
      jumpGroup: { id: 7, name: 'Servers' },
      publicSite: { id: 1, name: 'Default' },
      jumpoint: 'dc1',
      hostname: 'srv-app01',
      username: 'alice',
    });
  const storedEvents = async (lsid: string) =>
    (await pg.query<{ type: string; source: string }>(`SELECT e.type, e.source FROM reporting.session_event e JOIN reporting.session s ON s.id = e.session_id WHERE s.lsid = $1 ORDER BY e.timestamp, e.id`, [lsid])).rows;

  it('keeps the connection with its secret sealed, and never answers the secret', async () => {
    const view = await put({});
    expect(view).toMatchObject({ configured: true, url: new URL(siteUrl).origin, clientId: 'openecm-reporting', clientSecretSet: true, allowInsecureHttp: true });
    const got = await bus.request('reporting.appliance.get.v1', {});
    expect(JSON.stringify(got)).not.toContain(CLIENT_SECRET);
    const { rows } = await pg.query(`SELECT * FROM reporting.appliance_connection`);
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(CLIENT_SECRET);
    expect(rows[0].client_secret).toMatch(/^v1\.r1\./);
    // saving it scheduled its poll, which runs at once (before any session exists here)
    await waitFor(() => site.reportCalls.length > 0, { what: 'the first scheduled poll', timeoutMs: 20_000 });
  });

  it('refuses plain http without allowInsecureHttp, naming the field, and changes nothing', async () => {
    const before = (await pg.query(`SELECT updated_at FROM reporting.appliance_connection`)).rows;
    await expect(put({ allowInsecureHttp: false })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', fields: [{ field: 'url', message: expect.any(String) }] });
    expect((await pg.query(`SELECT updated_at FROM reporting.appliance_connection`)).rows).toEqual(before);
  });

  it('stores the sessions of the report, each event once however often it is read, and resumes at the oldest open session', async () => {
    const t = now() + 5;
    const ended = ApplianceSite.newLsid();
    const running = ApplianceSite.newLsid();
    session(ended, t);
    site.addEvent(ended, { timestamp: t + 1, type: 'Credentials Used', performedByType: 'representative', performedBy: 'alice', destination: 'srv-app01', data: { credential: 'srv-app01\\Administrator' } });
    site.endSession(ended, t + 60);
    session(running, t + 30);

    const first = await pollNow();
    expect(first).toMatchObject({ outcome: 'ok', sessions: 2, stored: 4, resumeFrom: t + 30 });
    expect((await storedEvents(ended)).map((e) => [e.type, e.source])).toEqual([
      ['Session Start', 'poller'],
      ['Credentials Used', 'poller'],
      ['Session End', 'poller'],
    ]);
    const { rows } = await pg.query(`SELECT * FROM reporting.session WHERE lsid = $1`, [ended]);
    expect(rows[0]).toMatchObject({ user_name: 'alice', endpoint: 'srv-app01', jump_group_name: 'Servers', jump_group_id: 7, public_site_name: 'Default', host_name: '127.0.0.1', duration: 60, injections: 1 });

    // the running session's later events come with the next poll, which asks from its start again
    site.addEvent(running, { timestamp: t + 40, type: 'File Transfer', performedByType: 'representative', performedBy: 'alice' });
    site.endSession(running, t + 50);
    const second = await pollNow();
    expect(site.reportCalls.at(-1)).toBe(t + 30);
    expect(second).toMatchObject({ outcome: 'ok', sessions: 1, stored: 2, resumeFrom: t + 30 });
    expect((await storedEvents(running)).map((e) => e.type)).toEqual(['Session Start', 'File Transfer', 'Session End']);
    expect(await pollNow()).toMatchObject({ outcome: 'ok', stored: 0 });
  });

  it('links an event the appliance also posted, with its own id and to the millisecond, to the same row (the same content is the same key)', async () => {
    const lsid = ApplianceSite.newLsid();
    const t = now() + 100;
    session(lsid, t);
    site.endSession(lsid, t + 5);
    const posted = await bus.request('reporting.events.ingest.v1', {
      events: [
        { lsid, type: 'Session Start', timestamp: new Date(t * 1000 + 417).toISOString(), performedByType: 'representative', performedBy: 'alice', destination: 'srv-app01', eventId: 'pra-ev-1' },
      ],
    });
    expect(posted.stored).toBe(1);
    expect(await pollNow()).toMatchObject({ outcome: 'ok', stored: 1 });
    expect((await storedEvents(lsid)).map((e) => [e.type, e.source])).toEqual([
      ['Session Start', 'appliance'],
      ['Session End', 'poller'],
    ]);
  });

  it('catches up after every instance was down, and two instances polling at once store each event once', async () => {
    await stop(apps[0] as INestApplication);
    const t = now() + 200;
    const missed = Array.from({ length: 5 }, () => ApplianceSite.newLsid());
    missed.forEach((lsid, i) => {
      session(lsid, t + i);
      site.endSession(lsid, t + i + 10);
    });
    const [a, b] = [await start(), await start()];
    const outcomes = await Promise.all([a.get(ReportPollProcessor).poll('default'), b.get(ReportPollProcessor).poll('default')]);
    // each may also meet the poll its own start scheduled: whoever stored, each event is there once
    expect(outcomes.every((o) => o.outcome === 'ok' || o.outcome === 'busy')).toBe(true);
    await pollNow(a);
    for (const lsid of missed) expect((await storedEvents(lsid)).map((e) => e.type)).toEqual(['Session Start', 'Session End']);
    const view = await bus.request('reporting.appliance.get.v1', {});
    expect(view.poll).toMatchObject({ lastError: null, resumeFrom: new Date((t + 4) * 1000).toISOString() });
  });

  it('polls on its own on the job scheduler, and records a failure by its step without the secret', async () => {
    const calls = site.reportCalls.length;
    await put({ pollIntervalSeconds: 5 });
    await waitFor(() => site.reportCalls.length > calls, { what: 'a scheduled poll', timeoutMs: 20_000 });
    await put({ clientSecret: 'a-wrong-secret', pollIntervalSeconds: 3600 });
    expect(await pollNow()).toEqual({ outcome: 'failed', error: 'authentication: the token endpoint answered 401' });
    const view = await bus.request('reporting.appliance.get.v1', {});
    expect(view.poll.lastError).toBe('authentication: the token endpoint answered 401');
    expect(JSON.stringify(view)).not.toContain('a-wrong-secret');
    await put({});
  });

  it("trusts a site's private CA given as caBundle, and names the tls step without it", async () => {
    const pems = await selfSigned([{ name: 'commonName', value: '127.0.0.1' }], {
      keySize: 2048,
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
      ],
    });
    const tlsSite = new ApplianceSite({ clientId: 'openecm-reporting', clientSecret: CLIENT_SECRET, tls: { key: pems.private, cert: pems.cert } });
    const tlsUrl = await tlsSite.listen();
    try {
      await put({ url: tlsUrl, allowInsecureHttp: false });
      expect(await pollNow()).toEqual({ outcome: 'failed', error: expect.stringMatching(/^tls: the appliance's TLS certificate is not trusted/) });
      const lsid = ApplianceSite.newLsid();
      tlsSite.startSession({ lsid, startTime: now() + 400, jumpGroup: { id: 1, name: 'g' }, publicSite: { id: 1, name: 's' }, jumpoint: 'j', hostname: 'h', username: 'u' });
      expect((await put({ url: tlsUrl, allowInsecureHttp: false, caBundle: pems.cert })).caBundle).toBe(true);
      expect(await pollNow()).toMatchObject({ outcome: 'ok', stored: 1 });
    } finally {
      await tlsSite.close();
      await put({});
    }
  });

  it('keeps starting and polling when the secret no longer opens (a key removed), and says so', async () => {
    const { rows } = await pg.query<{ client_secret: string }>(`SELECT client_secret FROM reporting.appliance_connection`);
    // the same envelope under a key id this deployment does not hold
    await pg.query(`UPDATE reporting.appliance_connection SET client_secret = $1`, [(rows[0] as { client_secret: string }).client_secret.replace(/^v1\.r1\./, 'v1.gone.')]);
    const later = await start();
    const outcome = await pollNow(later);
    expect(outcome).toEqual({ outcome: 'failed', error: expect.stringMatching(/^keys: .*APPLIANCE_SETTINGS_KEYS/) });
    expect((await bus.request('reporting.appliance.get.v1', {})).poll.lastError).toMatch(/^keys: /);
    await put({});
    expect(await pollNow(later)).toMatchObject({ outcome: 'ok' });
  });
});
