import { Controller, Module, type INestApplication } from '@nestjs/common';
import { LISTINGS_STREAM, OpenEcmError, SEAL_CONTEXTS, type ParsedRequestOf, type ReplyOf, type VaultCredential } from '@openecm/contracts';
import { SealingKeyPair, sealTo } from '@openecm/crypto';
import { Handles, MessagingModule, qualifiedStream, qualifiedSubject, type Bus } from '@openecm/messaging';
import { metricsRegistry } from '@openecm/telemetry';
import {
  NATS_URL,
  REDIS_URL,
  clearNamespaceKeys,
  createTestDatabase,
  deleteNamespaceStreams,
  openLease,
  startTestApp,
  testBus,
  waitFor,
} from '@openecm/testing';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import { Client } from 'pg';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
process.env['RECONCILE_INTERVAL_MS'] = '200';
process.env['RELEASE_JOB_BACKOFF_MS'] = '20';
process.env['RELEASE_JOB_BACKOFF_MAX_MS'] = '100';
// Retries end by time, as in production (where the window is a day).
process.env['ROTATION_RETRY_FOR_MS'] = '4000';

/** The vault side, faked on the real NATS: records check-outs and check-ins, fails on demand. */
const vault = {
  checkouts: [] as Array<ParsedRequestOf<'vault.credentials.checkout.v1'>>,
  checkins: [] as Array<ParsedRequestOf<'vault.credentials.checkin.v1'>>,
  checkinFailure: undefined as OpenEcmError | undefined,
  /** What the next list finds in the vault. */
  listing: [] as VaultCredential[],
  lists: 0,
};

@Controller()
class FakeVaultController {
  @Handles('vault.credentials.list.v1')
  async list(_req: ParsedRequestOf<'vault.credentials.list.v1'>): Promise<ReplyOf<'vault.credentials.list.v1'>> {
    vault.lists += 1;
    return { credentials: vault.listing, pending: [] };
  }

  @Handles('vault.credentials.checkout.v1')
  async checkout(req: ParsedRequestOf<'vault.credentials.checkout.v1'>): Promise<ReplyOf<'vault.credentials.checkout.v1'>> {
    vault.checkouts.push(req);
    if (req.ref['accountId'] === 999) throw new OpenEcmError('VAULT_CONFLICT', 'conflicting request');
    const secret = await sealTo(req.sealTo, { type: 'password', value: 'S3cret!' }, SEAL_CONTEXTS.checkoutSecret(req.leaseId));
    return { username: 'Administrator', domain: null, secret };
  }

  @Handles('vault.credentials.checkin.v1')
  async checkin(req: ParsedRequestOf<'vault.credentials.checkin.v1'>): Promise<ReplyOf<'vault.credentials.checkin.v1'>> {
    vault.checkins.push(req);
    if (vault.checkinFailure) throw vault.checkinFailure;
    return { checkedIn: true, rotationRequested: req.rotate };
  }
}

@Module({ imports: [MessagingModule], controllers: [FakeVaultController] })
class FakeVaultModule {}

const credential = (accountId: number, rotate = true): VaultCredential => ({
  vault: 'ps',
  ref: { systemId: 1, accountId },
  name: `srv-app01\\acct${accountId}`,
  username: `acct${accountId}`,
  domain: null,
  scope: 'machine',
  releaseDurationMinutes: 60,
  rotateAfterRelease: rotate,
});

describe('policy-approval on real NATS, Postgres, Redis and BullMQ', () => {
  let db: { url: string; drop: () => Promise<void> };
  let policy: INestApplication;
  let fakeVault: INestApplication;
  let bus: Bus;
  let pg: Client;
  let nc: NatsConnection;
  /** The key pair the gateway would make for each injection; one serves every injection here. */
  let gateway: SealingKeyPair;

  beforeAll(async () => {
    gateway = await SealingKeyPair.generate();
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const { AppModule } = await import('../src/app.module');
    ({ app: policy } = await startTestApp('policy-approval', AppModule));
    ({ app: fakeVault } = await startTestApp('vault-adapters', FakeVaultModule));
    bus = testBus();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    nc = await connect({ servers: NATS_URL });
    await bus.request('policy.defaults.ensure.v1', {});
    await bus.request('policy.group-member.add.v1', { group: 'Secure Remote Access Requesters', user: 'CORP\\Alice' });
  });

  afterAll(async () => {
    await bus?.onApplicationShutdown();
    await policy?.close();
    await fakeVault?.close();
    await pg?.end();
    await nc?.close();
    await db?.drop();
    await clearNamespaceKeys();
    await deleteNamespaceStreams();
  });

  const leaseState = (id: string) => bus.request('policy.lease.get.v1', { leaseId: id, owner: null });
  const metricValue = async (name: string, code: string) =>
    (await metricsRegistry.getSingleMetric(name)?.get())?.values.find((v) => v.labels['code'] === code)?.value ?? 0;
  const list = (user: string, endpoint: string, creds = [credential(1)]) => {
    vault.listing = creds;
    return bus.request('policy.credentials.list.v1', { user, endpoint });
  };

  it('creates the default policy and group once', async () => {
    const again = await bus.request('policy.defaults.ensure.v1', {});
    expect(again).toEqual({ group: 'Secure Remote Access Requesters', policy: 'Secure Remote Access Approval Policy', created: false });
  });

  it('lists for a member of the requesters group, and refuses anyone else without asking a vault', async () => {
    await expect(list('corp\\alice', 'srv-app01')).resolves.toMatchObject({ credentials: [{ name: 'srv-app01\\acct1', vault: 'ps' }], pending: [] });
    const asked = vault.lists;
    await expect(list('mallory', 'srv-app01')).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    expect(vault.lists).toBe(asked);
  });

  it('refuses a policy outside its window', async () => {
    // a window that ended yesterday and never opens again
    const yesterday = new Date(Date.now() - 24 * 3600_000).toISOString();
    await bus.request('policy.access-policy.put.v1', { name: 'never', policy: { schedule: { timeZone: 'UTC', windows: [], endsAt: yesterday } } });
    await bus.request('policy.group.put.v1', { name: 'Night', policies: ['never'] });
    await bus.request('policy.group-member.add.v1', { group: 'Night', user: 'nina' });
    await expect(list('nina', 'x')).rejects.toMatchObject({ code: 'ACCESS_DENIED', message: expect.stringContaining('none opens again') });
  });

  it('issues stable credential ids that only the listed user on the listed endpoint can inject', async () => {
    const first = await list('CORP\\Alice', 'srv-app01');
    const second = await list('corp\\alice', 'SRV-APP01');
    expect(second.credentials[0]?.id).toBe(first.credentials[0]?.id);
    const id = first.credentials[0]?.id as string;
    await bus.request('policy.group-member.add.v1', { group: 'Secure Remote Access Requesters', user: 'bob' });
    const before = vault.checkouts.length;
    await expect(bus.request('policy.lease.open.v1', { credentialId: id, user: 'bob', endpoint: 'srv-app01', sessionId: 's1', owner: 'pra-site-1', sealTo: gateway.publicKey })).rejects.toMatchObject({ code: 'CREDENTIAL_NOT_OFFERED' });
    await expect(bus.request('policy.lease.open.v1', { credentialId: id, user: 'CORP\\Alice', endpoint: 'srv-db01', sessionId: 's1', owner: 'pra-site-1', sealTo: gateway.publicKey })).rejects.toMatchObject({ code: 'CREDENTIAL_NOT_OFFERED' });
    await expect(
      bus.request('policy.lease.open.v1', { credentialId: '00000000-0000-4000-8000-000000000000', user: 'CORP\\Alice', endpoint: 'srv-app01', sessionId: 's1', owner: 'pra-site-1', sealTo: gateway.publicKey }),
    ).rejects.toMatchObject({ code: 'CREDENTIAL_NOT_FOUND' });
    expect(vault.checkouts.length).toBe(before);
  });

  it('writes nothing when a list offers what it offered before, and writes what changed', async () => {
    const listedAt = async () =>
      (await pg.query<{ name: string; listed_at: Date }>(`SELECT name, listed_at FROM policy.credential_offer WHERE endpoint_key = 'srv-quiet01'`)).rows;
    const first = await list('CORP\\Alice', 'srv-quiet01', [credential(70)]);
    const written = await listedAt();
    expect(written).toHaveLength(1);
    const again = await list('CORP\\Alice', 'srv-quiet01', [credential(70)]);
    expect(again.credentials[0]?.id).toBe(first.credentials[0]?.id);
    expect(await listedAt()).toEqual(written);
    const renamed = { ...credential(70), name: 'srv-quiet01\\renamed' };
    const changed = await list('CORP\\Alice', 'srv-quiet01', [renamed]);
    expect(changed.credentials[0]).toMatchObject({ id: first.credentials[0]?.id, name: 'srv-quiet01\\renamed' });
    const rewritten = await listedAt();
    expect(rewritten[0]?.name).toBe('srv-quiet01\\renamed');
    expect(rewritten[0]?.listed_at.getTime()).toBeGreaterThan(written[0]?.listed_at.getTime() as number);
  });

  it('refuses injection to a user removed from the group after the list', async () => {
    await bus.request('policy.group-member.add.v1', { group: 'Secure Remote Access Requesters', user: 'carol' });
    const id = (await list('carol', 'srv-app01')).credentials[0]?.id as string;
    await bus.request('policy.group-member.remove.v1', { group: 'Secure Remote Access Requesters', user: 'carol' });
    await expect(bus.request('policy.lease.open.v1', { credentialId: id, user: 'carol', endpoint: 'srv-app01', sessionId: 's', owner: 'pra-site-1', sealTo: gateway.publicKey })).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
  });

  it('opens a lease, publishes the event before answering, and on release checks in with rotation', async () => {
    const id = (await list('CORP\\Alice', 'srv-app01')).credentials[0]?.id as string;
    const opened = await openLease(bus, { credentialId: id, user: 'CORP\\Alice', endpoint: 'srv-app01', sessionId: 'sess-1', owner: 'pra-site-1', sealTo: gateway.publicKey });
    // passed on as vault-adapters sealed it: readable with the gateway's key for this lease only
    expect(JSON.stringify(opened)).not.toContain('S3cret!');
    await expect(gateway.open(opened.secret, SEAL_CONTEXTS.checkoutSecret(opened.leaseId))).resolves.toEqual({ type: 'password', value: 'S3cret!' });
    expect(vault.checkouts.at(-1)?.sealTo).toEqual(gateway.publicKey);
    expect(new Date(opened.releaseAt).getTime()).toBeGreaterThan(Date.now() + 59 * 60_000);
    expect(vault.checkouts.at(-1)).toMatchObject({ leaseId: opened.leaseId, durationMinutes: 60, ref: { systemId: 1, accountId: 1 } });

    const events = await readStream();
    const openedEvent = events.find((e) => e.leaseId === opened.leaseId);
    expect(openedEvent).toMatchObject({ sessionId: 'sess-1', user: 'CORP\\Alice' });
    expect(JSON.stringify(events)).not.toContain('S3cret!');
    expect((await leaseState(opened.leaseId)).state).toBe('active');

    const released = await bus.request('policy.lease.release.v1', { leaseId: opened.leaseId, owner: null });
    expect(released.rotation).toBe('scheduled');
    const rotated = await waitFor(async () => {
      const l = await leaseState(opened.leaseId);
      return l.state === 'rotated' && l;
    }, { what: 'rotation' });
    expect(rotated).toMatchObject({ releasedBy: 'appliance', rotation: 'done' });
    expect(vault.checkins.filter((c) => c.leaseId === opened.leaseId)).toEqual([expect.objectContaining({ rotate: true })]);

    const again = await bus.request('policy.lease.release.v1', { leaseId: opened.leaseId, owner: null });
    expect(again.releasedAt).toBe(released.releasedAt);
    expect(vault.checkins.filter((c) => c.leaseId === opened.leaseId)).toHaveLength(1);
  });

  it('releases at expiry on its own, and after a Redis flush the reconciler still does it', async () => {
    const id = (await list('CORP\\Alice', 'srv-app02', [credential(2, false)])).credentials[0]?.id as string;
    const opened = await openLease(bus, { credentialId: id, user: 'CORP\\Alice', endpoint: 'srv-app02', sessionId: 'sess-2', owner: 'pra-site-1', sealTo: gateway.publicKey });
    await clearNamespaceKeys();
    await pg.query(`UPDATE policy.lease SET release_at = now() - interval '1 second', opened_at = now() - interval '1 hour' WHERE id = $1`, [opened.leaseId]);
    const done = await waitFor(async () => {
      const l = await leaseState(opened.leaseId);
      return l.state === 'checked-in' && l;
    }, { what: 'expiry check-in' });
    expect(done).toMatchObject({ releasedBy: 'expiry', rotation: 'not-required' });
    expect(vault.checkins.find((c) => c.leaseId === opened.leaseId)).toMatchObject({ rotate: false });
  });

  it('marks the lease failed with the vault error when check-in cannot succeed', async () => {
    const id = (await list('CORP\\Alice', 'srv-app03', [credential(3)])).credentials[0]?.id as string;
    const opened = await openLease(bus, { credentialId: id, user: 'CORP\\Alice', endpoint: 'srv-app03', sessionId: 'sess-3', owner: 'pra-site-1', sealTo: gateway.publicKey });
    vault.checkinFailure = new OpenEcmError('VAULT_FORBIDDEN', 'Password Safe refused the check-in (4031)');
    try {
      await bus.request('policy.lease.release.v1', { leaseId: opened.leaseId, owner: null });
      const failed = await waitFor(async () => {
        const l = await leaseState(opened.leaseId);
        return l.state === 'failed' && l;
      }, { what: 'failure' });
      expect(failed).toMatchObject({ rotation: 'failed', error: { code: 'VAULT_FORBIDDEN' } });
    } finally {
      vault.checkinFailure = undefined;
    }
  });

  it('retries a check-in that fails, showing rotation: retrying with the last error, until the vault is back', async () => {
    const id = (await list('CORP\\Alice', 'srv-app05', [credential(5)])).credentials[0]?.id as string;
    const opened = await openLease(bus, { credentialId: id, user: 'CORP\\Alice', endpoint: 'srv-app05', sessionId: 'sess-5', owner: 'pra-site-1', sealTo: gateway.publicKey });
    vault.checkinFailure = new OpenEcmError('VAULT_UNAVAILABLE', 'Password Safe is not answering');
    try {
      await bus.request('policy.lease.release.v1', { leaseId: opened.leaseId, owner: null });
      const retrying = await waitFor(async () => {
        const l = await leaseState(opened.leaseId);
        return l.rotation === 'retrying' && l;
      }, { what: 'rotation: retrying' });
      expect(retrying).toMatchObject({ state: 'released', error: { code: 'VAULT_UNAVAILABLE' } });
      await waitFor(() => vault.checkins.filter((c) => c.leaseId === opened.leaseId).length >= 3, { what: 'several attempts' });
      expect(await metricValue('openecm_release_checkin_failures_total', 'VAULT_UNAVAILABLE')).toBeGreaterThanOrEqual(2);
    } finally {
      vault.checkinFailure = undefined;
    }
    const rotated = await waitFor(async () => {
      const l = await leaseState(opened.leaseId);
      return l.state === 'rotated' && l;
    }, { what: 'the rotation once the vault is back' });
    expect(rotated).toMatchObject({ rotation: 'done', error: null });
  });

  it('gives up only after ROTATION_RETRY_FOR_MS, announcing the failure', async () => {
    const id = (await list('CORP\\Alice', 'srv-app06', [credential(6)])).credentials[0]?.id as string;
    const opened = await openLease(bus, { credentialId: id, user: 'CORP\\Alice', endpoint: 'srv-app06', sessionId: 'sess-6', owner: 'pra-site-1', sealTo: gateway.publicKey });
    const events: Array<{ leaseId: string; code: string }> = [];
    const failedEvents = nc.subscribe(qualifiedSubject('policy.lease.failed.v1'), {
      callback: (_error, m) => events.push(JSONCodec<{ leaseId: string; code: string }>().decode(m.data)),
    });
    vault.checkinFailure = new OpenEcmError('VAULT_UNAVAILABLE', 'Password Safe is not answering');
    try {
      await bus.request('policy.lease.release.v1', { leaseId: opened.leaseId, owner: null });
      const released = await leaseState(opened.leaseId);
      const failed = await waitFor(async () => {
        const l = await leaseState(opened.leaseId);
        return l.state === 'failed' && l;
      }, { what: 'the lease to be given up on', timeoutMs: 15_000 });
      expect(failed).toMatchObject({ rotation: 'failed', error: { code: 'VAULT_UNAVAILABLE' } });
      // Not before the window: the attempts went on for ROTATION_RETRY_FOR_MS after the release.
      expect(Date.now() - Date.parse(released.releasedAt as string)).toBeGreaterThanOrEqual(4000);
      expect(vault.checkins.filter((c) => c.leaseId === opened.leaseId).length).toBeGreaterThan(3);
      const event = await waitFor(() => events.find((e) => e.leaseId === opened.leaseId), { what: 'the failed event' });
      expect(event).toMatchObject({ code: 'VAULT_UNAVAILABLE' });
      expect(await metricValue('openecm_release_rotation_failed_total', 'VAULT_UNAVAILABLE')).toBeGreaterThanOrEqual(1);
    } finally {
      failedEvents.unsubscribe();
      vault.checkinFailure = undefined;
    }
  }, 30_000);

  it('answers the vault error on a failed check-out and keeps the failed lease', async () => {
    const id = (await list('CORP\\Alice', 'srv-app04', [credential(999)])).credentials[0]?.id as string;
    await expect(bus.request('policy.lease.open.v1', { credentialId: id, user: 'CORP\\Alice', endpoint: 'srv-app04', sessionId: 's4', owner: 'pra-site-1', sealTo: gateway.publicKey })).rejects.toMatchObject({ code: 'VAULT_CONFLICT' });
    const rows = await pg.query(`SELECT id, state, error_code FROM policy.lease WHERE endpoint = 'srv-app04'`);
    expect(rows.rows).toEqual([{ id: expect.any(String), state: 'failed', error_code: 'VAULT_CONFLICT' }]);
    // The vault may hold a request for it all the same: the release path checks it in, then it is done.
    const leaseId = rows.rows[0].id as string;
    await waitFor(() => vault.checkins.some((c) => c.leaseId === leaseId), { what: 'the check-in of the failed check-out' });
    await waitFor(async () => (await pg.query('SELECT checkin_due FROM policy.lease WHERE id = $1', [leaseId])).rows[0].checkin_due === false, {
      what: 'the failed lease to be settled',
    });
    expect(vault.checkins.filter((c) => c.leaseId === leaseId)).toEqual([expect.objectContaining({ leaseId, rotate: true })]);
    expect(await leaseState(leaseId)).toMatchObject({ state: 'failed', error: { code: 'VAULT_CONFLICT' } });
  });

  it('forgets credential ids that were not listed again and never injected, and keeps those behind a lease', async () => {
    const stale = (await list('CORP\\Alice', 'srv-old01', [credential(50)])).credentials[0]?.id as string;
    const used = (await list('CORP\\Alice', 'srv-app01')).credentials[0]?.id as string;
    await pg.query(`UPDATE policy.credential_offer SET listed_at = now() - interval '30 days' WHERE id = ANY($1)`, [[stale, used]]);
    const { OffersPruner } = await import('../src/offers/offers.pruner');
    expect(await policy.get(OffersPruner).prune()).toBe(1);
    await expect(bus.request('policy.lease.open.v1', { credentialId: stale, user: 'CORP\\Alice', endpoint: 'srv-old01', sessionId: 's', owner: 'pra-site-1', sealTo: gateway.publicKey })).rejects.toMatchObject({ code: 'CREDENTIAL_NOT_FOUND' });
    expect((await pg.query('SELECT 1 FROM policy.credential_offer WHERE id = $1', [used])).rowCount).toBe(1);
  });

  it('reports a list to session reporting only when it names a session', async () => {
    const jsm = await nc.jetstreamManager();
    const stream = qualifiedStream(LISTINGS_STREAM);
    const before = (await jsm.streams.info(stream)).state.last_seq;
    await list('CORP\\Alice', 'srv-app01');
    vault.listing = [credential(1)];
    await bus.request('policy.credentials.list.v1', { user: 'CORP\\Alice', endpoint: 'srv-app01', sessionId: 'sess-listed' });
    const published = await waitFor(async () => {
      const info = await jsm.streams.info(stream);
      return info.state.last_seq > before && info.state.last_seq;
    }, { what: 'the listed event' });
    // the one event is the list with a session; the list without one published nothing
    expect(published).toBe(before + 1);
    const event = JSONCodec<Record<string, unknown>>().decode((await jsm.streams.getMessage(stream, { seq: published })).data);
    expect(event).toMatchObject({ user: 'CORP\\Alice', endpoint: 'srv-app01', sessionId: 'sess-listed', credentials: [{ name: 'srv-app01\\acct1', vault: 'ps' }] });
  });

  it('answers 404 for an unknown lease', async () => {
    await expect(bus.request('policy.lease.release.v1', { leaseId: '00000000-0000-4000-8000-000000000001', owner: null })).rejects.toMatchObject({ code: 'LEASE_NOT_FOUND' });
  });

  async function readStream(): Promise<Array<Record<string, unknown>>> {
    const jsm = await nc.jetstreamManager();
    const ns = (process.env['OPENECM_NAMESPACE'] as string).toUpperCase();
    const info = await jsm.streams.info(`${ns}_LEASE_EVENTS`);
    const out: Array<Record<string, unknown>> = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(`${ns}_LEASE_EVENTS`, { seq });
      out.push(JSONCodec<Record<string, unknown>>().decode(m.data));
    }
    return out;
  }
});
