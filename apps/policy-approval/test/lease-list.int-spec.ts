import type { INestApplication } from '@nestjs/common';
import type { Bus } from '@openecm/messaging';
import { NATS_URL, REDIS_URL, clearNamespaceKeys, createTestDatabase, deleteNamespaceStreams, startTestApp, testBus } from '@openecm/testing';
import { Client } from 'pg';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;

describe('the lease list of policy-approval (real NATS and Postgres)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let policy: INestApplication;
  let bus: Bus;
  let pg: Client;
  const ids: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const { AppModule } = await import('../src/app.module');
    ({ app: policy } = await startTestApp('policy-approval', AppModule));
    bus = testBus();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    const [offer] = (
      await pg.query<{ id: string }>(
        `INSERT INTO policy.credential_offer (user_key, endpoint_key, vault, ref, ref_key, name, username, scope, release_duration_minutes, rotate_after_release)
         VALUES ('alice', 'srv-app01', 'ps', '{"accountId":1}', '1', 'srv-app01\\Administrator', 'Administrator', 'machine', 60, true) RETURNING id`,
      )
    ).rows;
    // seven leases in one microsecond-precise instant and five a second apart: paging must keep every one exactly once
    for (let i = 0; i < 12; i++) {
      const { rows } = await pg.query<{ id: string }>(
        `INSERT INTO policy.lease (id, offer_id, user_name, endpoint, session_id, vault, credential_name, username, state, rotate, rotation, opened_at, release_at)
         VALUES (gen_random_uuid(), $1, $2, 'srv-app01', $3, 'ps', 'srv-app01\\Administrator', 'Administrator', $4, true, 'pending',
                 CASE WHEN $5 < 7 THEN timestamptz '2030-01-01 10:00:00.123456+00' ELSE timestamptz '2030-01-01 10:00:00+00' + make_interval(secs => $5) END,
                 timestamptz '2030-01-01 12:00:00+00') RETURNING id`,
        [offer?.id, i % 3 === 0 ? 'CORP\\Bob' : 'alice', `s${i}`, i % 2 === 0 ? 'active' : 'released', i],
      );
      ids.push(rows[0]?.id as string);
    }
  });

  afterAll(async () => {
    await bus?.onApplicationShutdown();
    await policy?.close();
    await pg?.end();
    await db?.drop();
    await clearNamespaceKeys();
    await deleteNamespaceStreams();
  });

  it('pages newest first with a cursor, every lease exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await bus.request('policy.lease.list.v1', { limit: 5, ...(cursor ? { cursor } : {}) });
      seen.push(...page.leases.map((l) => l.leaseId));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect([...seen].sort()).toEqual([...ids].sort());
    expect(seen.slice(0, 5)).toEqual([ids[11], ids[10], ids[9], ids[8], ids[7]]);
  });

  it('filters by state and by user, whatever the case of the name', async () => {
    const active = await bus.request('policy.lease.list.v1', { state: 'active' });
    expect(active.leases).toHaveLength(6);
    expect(active.leases.every((l) => l.state === 'active')).toBe(true);
    expect(active.nextCursor).toBeNull();
    const bob = await bus.request('policy.lease.list.v1', { user: 'corp\\bob' });
    expect(bob.leases.map((l) => l.sessionId).sort()).toEqual(['s0', 's3', 's6', 's9']);
    const both = await bus.request('policy.lease.list.v1', { user: 'CORP\\BOB', state: 'released' });
    expect(both.leases.map((l) => l.sessionId).sort()).toEqual(['s3', 's9']);
  });

  it('refuses a cursor it did not issue, naming the field', async () => {
    await expect(bus.request('policy.lease.list.v1', { cursor: 'bm90LWEtY3Vyc29y' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [{ field: 'cursor', message: expect.any(String) }],
    });
  });
});
