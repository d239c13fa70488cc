import type { INestApplication } from '@nestjs/common';
import type { Bus } from '@openecm/messaging';
import { NATS_URL, REDIS_URL, clearNamespaceKeys, createTestDatabase, deleteNamespaceStreams, startTestApp, testBus } from '@openecm/testing';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
// releases are scheduled, never run here: no vault takes part
process.env['RUN_RELEASE_WORKER'] = 'false';

describe('leases belong to the API account that opened them (policy-approval on real NATS, Redis, Postgres)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let policy: INestApplication;
  let bus: Bus;
  let pg: Client;
  let owned: string;
  let legacy: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const { AppModule } = await import('../src/app.module');
    ({ app: policy } = await startTestApp('policy-approval', AppModule));
    bus = testBus();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    const offer = await pg.query<{ id: string }>(
      `INSERT INTO policy.credential_offer (user_key, endpoint_key, vault, ref, ref_key, name, username, scope, release_duration_minutes, rotate_after_release)
       VALUES ('alice', 'srv-app01', 'ps', '{"accountId":1}', '1', 'srv-app01\\Administrator', 'Administrator', 'machine', 60, true) RETURNING id`,
    );
    const { LeaseRepository } = await import('../src/leases/lease.repository');
    const lease = {
      offerId: offer.rows[0]?.id as string,
      user: 'alice',
      endpoint: 'srv-app01',
      vault: 'ps',
      credentialName: 'srv-app01\\Administrator',
      username: 'Administrator',
      domain: null,
      rotate: true,
      durationMinutes: 60,
      policy: 'Secure Remote Access Approval Policy',
      approvalId: null,
      emergency: false,
      reason: null,
      exclusive: false,
      credentialKey: 'password-safe:[]',
    };
    owned = (await policy.get(LeaseRepository).insert({ ...lease, id: randomUUID(), sessionId: 's1', owner: 'appliance-a' })).id;
    // a lease opened before owners were recorded
    legacy = (await policy.get(LeaseRepository).insert({ ...lease, id: randomUUID(), sessionId: 's2', owner: 'appliance-a' })).id;
    await pg.query('UPDATE policy.lease SET owner = NULL WHERE id = $1', [legacy]);
  });

  afterAll(async () => {
    await bus?.onApplicationShutdown();
    await policy?.close();
    await pg?.end();
    await db?.drop();
    await clearNamespaceKeys();
    await deleteNamespaceStreams();
  });

  it('records the opening account on the lease', async () => {
    const { rows } = await pg.query<{ owner: string | null }>('SELECT owner FROM policy.lease WHERE id = $1', [owned]);
    expect(rows).toEqual([{ owner: 'appliance-a' }]);
  });

  it("answers LEASE_NOT_FOUND to another account's read, as for a lease that does not exist", async () => {
    await expect(bus.request('policy.lease.get.v1', { leaseId: owned, owner: 'appliance-b' })).rejects.toMatchObject({ code: 'LEASE_NOT_FOUND' });
    await expect(bus.request('policy.lease.get.v1', { leaseId: randomUUID(), owner: 'appliance-b' })).rejects.toMatchObject({
      code: 'LEASE_NOT_FOUND',
      message: 'no such lease',
    });
    await expect(bus.request('policy.lease.get.v1', { leaseId: owned, owner: 'appliance-a' })).resolves.toMatchObject({ leaseId: owned, state: 'active' });
    await expect(bus.request('policy.lease.get.v1', { leaseId: owned, owner: null })).resolves.toMatchObject({ leaseId: owned });
  });

  it("answers LEASE_NOT_FOUND to another account's release and leaves the lease active; its owner releases it", async () => {
    await expect(bus.request('policy.lease.release.v1', { leaseId: owned, owner: 'appliance-b' })).rejects.toMatchObject({ code: 'LEASE_NOT_FOUND' });
    const before = await pg.query<{ state: string }>('SELECT state FROM policy.lease WHERE id = $1', [owned]);
    expect(before.rows).toEqual([{ state: 'active' }]);
    const released = await bus.request('policy.lease.release.v1', { leaseId: owned, owner: 'appliance-a' });
    expect(released).toMatchObject({ leaseId: owned, rotation: 'scheduled' });
    // idempotent for its owner, still hidden from the other account
    await expect(bus.request('policy.lease.release.v1', { leaseId: owned, owner: 'appliance-a' })).resolves.toEqual(released);
    await expect(bus.request('policy.lease.release.v1', { leaseId: owned, owner: 'appliance-b' })).rejects.toMatchObject({ code: 'LEASE_NOT_FOUND' });
  });

  it('leaves a lease without an owner to the accounts that may see every lease', async () => {
    await expect(bus.request('policy.lease.get.v1', { leaseId: legacy, owner: 'appliance-a' })).rejects.toMatchObject({ code: 'LEASE_NOT_FOUND' });
    await expect(bus.request('policy.lease.release.v1', { leaseId: legacy, owner: 'appliance-a' })).rejects.toMatchObject({ code: 'LEASE_NOT_FOUND' });
    await expect(bus.request('policy.lease.release.v1', { leaseId: legacy, owner: null })).resolves.toMatchObject({ leaseId: legacy });
  });
});
