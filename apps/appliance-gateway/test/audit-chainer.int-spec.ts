import type { INestApplication } from '@nestjs/common';
import { NATS_URL, REDIS_URL, clearNamespaceKeys, createTestDatabase, deleteNamespaceStreams, startTestApp, waitFor } from '@openecm/testing';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { AuditTrail } from '../src/audit/audit-trail.service';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
process.env['OPENECM_BOOTSTRAP_CLIENT_ID'] = 'chainer-admin';
process.env['OPENECM_BOOTSTRAP_CLIENT_SECRET'] = 'chainer-admin-secret-0123456789';
process.env['AUDIT_HMAC_KEYS'] = `c1:${randomBytes(32).toString('base64')}`;
process.env['AUDIT_CHAIN_INTERVAL_MS'] = '50';

/** The rounds the chainer's timer has run, how many of them chained, and at which round each chaining began. */
interface Rounds {
  ticks: number;
  chained: number;
  chainedAt: number[];
}

describe("the audit chainer's rounds (real Postgres)", () => {
  let db: { url: string; drop: () => Promise<void> };
  let gateway: { app: INestApplication; url: string };
  let pg: Client;
  const rounds: Rounds = { ticks: 0, chained: 0, chainedAt: [] };
  /** The round of the last chaining begun. */
  const lastChaining = () => rounds.chainedAt[rounds.chainedAt.length - 1] ?? -1;

  const unchained = async (kind: string) =>
    Number((await pg.query<{ n: string }>('SELECT count(*)::text AS n FROM audit.record WHERE kind = $1 AND position IS NULL', [kind])).rows[0]?.n);
  const afterTicks = (n: number) => {
    const until = rounds.ticks + n;
    return waitFor(() => rounds.ticks >= until, { timeoutMs: 10_000, what: `${n} rounds of the chainer` });
  };

  /** A sign-in with a wrong secret, which this instance records before it answers. */
  const failSignIn = async () =>
    (
      await fetch(`${gateway.url}/oauth2/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('chainer-admin:not-the-secret-0123456789').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      })
    ).status;

  beforeAll(async () => {
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const { AppModule } = await import('../src/app.module');
    const { configureGateway } = await import('../src/http-setup');
    const { AuditTrail: Trail } = await import('../src/audit/audit-trail.service');
    gateway = await startTestApp('appliance-gateway', AppModule, configureGateway);
    const trail = gateway.app.get<AuditTrail>(Trail);
    // counted where the timer calls them: each round, and each round that ran a chaining transaction
    const probe = trail as unknown as { onRound: () => void; chainNow: () => Promise<number> };
    const onRound = probe.onRound.bind(trail);
    const chainNow = probe.chainNow.bind(trail);
    probe.onRound = () => {
      rounds.ticks++;
      onRound();
    };
    probe.chainNow = () => {
      rounds.chained++;
      rounds.chainedAt.push(rounds.ticks);
      return chainNow();
    };
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.end();
    await gateway?.app.close();
    await clearNamespaceKeys();
    await deleteNamespaceStreams();
    await db?.drop();
  });

  it('runs no chaining transaction while nothing is written, and chains a record the instance wrote at its next round', async () => {
    await afterTicks(1);
    const chainedBefore = rounds.chained;
    await afterTicks(12);
    // a round in twenty runs anyway, so at most one of these twelve
    expect(rounds.chained - chainedBefore).toBeLessThanOrEqual(1);

    // a failed sign-in is recorded by this instance
    expect(await failSignIn()).toBe(401);
    const ticksAtWrite = rounds.ticks;
    await waitFor(async () => (await unchained('sign-in.failed')) === 0 && (await pg.query("SELECT 1 FROM audit.record WHERE kind = 'sign-in.failed'")).rowCount === 1, {
      timeoutMs: 10_000,
      what: 'the failed sign-in chained',
    });
    // by a round of its own write (the next, or the one after a round still running), not the one in twenty
    expect(lastChaining() - ticksAtWrite).toBeLessThanOrEqual(6);
  });

  it('chains, within twenty rounds, records another instance wrote and left unchained', async () => {
    // as an instance that stopped between its insert and its chaining round would leave them
    await pg.query(
      `INSERT INTO audit.record (at, kind, actor, outcome, details) VALUES (now(), 'admin.change', 'other-instance', 'OK', '{}'), (now(), 'admin.change', 'other-instance', 'OK', '{}')`,
    );
    const ticksAtWrite = rounds.ticks;
    await waitFor(async () => (await unchained('admin.change')) === 0, { timeoutMs: 10_000, what: "the other instance's records chained" });
    // nothing was written here: the round that runs anyway took them, within twenty rounds
    expect(lastChaining() - ticksAtWrite).toBeLessThanOrEqual(20);
  });

  it('tries again at its next rounds while another instance holds the chain, and links its record once it is free', async () => {
    const other = new Client({ connectionString: db.url });
    await other.connect();
    try {
      // the lock a chaining round of another instance holds
      await other.query('BEGIN');
      await other.query("SELECT pg_advisory_xact_lock(hashtext('openecm audit chain'))");
      const before = Number((await pg.query<{ n: string }>("SELECT count(*)::text AS n FROM audit.record WHERE kind = 'sign-in.failed'")).rows[0]?.n);
      expect(await failSignIn()).toBe(401);
      const ticksAtWrite = rounds.ticks;
      await afterTicks(8);
      // each of those rounds found the lock held and left the record for the next one, not for the one in twenty
      expect(rounds.chainedAt.filter((tick) => tick > ticksAtWrite).length).toBeGreaterThanOrEqual(3);
      expect(await unchained('sign-in.failed')).toBe(1);
      await other.query('COMMIT');
      const ticksAtFree = rounds.ticks;
      await waitFor(async () => (await unchained('sign-in.failed')) === 0, { timeoutMs: 10_000, what: 'the record chained once the lock is free' });
      expect(lastChaining() - ticksAtFree).toBeLessThanOrEqual(6);
      expect(Number((await pg.query<{ n: string }>("SELECT count(*)::text AS n FROM audit.record WHERE kind = 'sign-in.failed'")).rows[0]?.n)).toBe(before + 1);
    } finally {
      await other.end();
    }
  });
});
