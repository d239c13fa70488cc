import { Controller, Module, type INestApplication } from '@nestjs/common';
import { OpenEcmError, SEAL_CONTEXTS, type AccessPolicyDefinition, type ParsedRequestOf, type ReplyOf, type RequestOf, type VaultCredential } from '@openecm/contracts';
import { SealingKeyPair, sealTo } from '@openecm/crypto';
import { Handles, MessagingModule, type Bus } from '@openecm/messaging';
import { OpsResponder } from '@openecm/service-kit';
import { NATS_URL, REDIS_URL, clearNamespaceKeys, createTestDatabase, deleteNamespaceStreams, openLease, startTestApp, testBus, waitFor } from '@openecm/testing';
import { JSONCodec, connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { pino } from 'pino';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
// only a delayed job, or an explicit reconcile, can explain an expiry seen here
process.env['RECONCILE_INTERVAL_MS'] = '600000';
process.env['EXCLUSIVE_TURN_SECONDS'] = '5';

/** The vault side, faked on the real NATS: what it lists, every check-out and check-in. */
const vault = {
  listing: [] as VaultCredential[],
  checkouts: [] as Array<ParsedRequestOf<'vault.credentials.checkout.v1'>>,
  checkins: [] as Array<ParsedRequestOf<'vault.credentials.checkin.v1'>>,
};

@Controller()
class FakeVaultController {
  @Handles('vault.credentials.list.v1')
  async list(_req: ParsedRequestOf<'vault.credentials.list.v1'>): Promise<ReplyOf<'vault.credentials.list.v1'>> {
    return { credentials: vault.listing, pending: [] };
  }

  @Handles('vault.credentials.checkout.v1')
  async checkout(req: ParsedRequestOf<'vault.credentials.checkout.v1'>): Promise<ReplyOf<'vault.credentials.checkout.v1'>> {
    vault.checkouts.push(req);
    return { username: String(req.ref['account']), domain: null, secret: await sealTo(req.sealTo, { type: 'password', value: 'S3cret!' }, SEAL_CONTEXTS.checkoutSecret(req.leaseId)) };
  }

  @Handles('vault.credentials.checkin.v1')
  async checkin(req: ParsedRequestOf<'vault.credentials.checkin.v1'>): Promise<ReplyOf<'vault.credentials.checkin.v1'>> {
    vault.checkins.push(req);
    return { checkedIn: true, rotationRequested: req.rotate };
  }
}

@Module({ imports: [MessagingModule], controllers: [FakeVaultController] })
class FakeVaultModule {}

const account = (name: string, rotate = false): VaultCredential => ({
  vault: 'ps',
  ref: { account: name },
  name: `srv\\${name}`,
  username: name,
  domain: null,
  scope: 'machine',
  releaseDurationMinutes: 60,
  rotateAfterRelease: rotate,
});

/** Policies, approvals, the exclusive queue, emergency access and revocation, with two policy-approval instances. */
describe('access policies and approvals (two policy-approval instances, real NATS, Redis, Postgres, BullMQ)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let AppModule: new () => unknown;
  let instances: INestApplication[] = [];
  let fakeVault: INestApplication;
  let bus: Bus;
  let pg: Client;
  let nc: NatsConnection;
  let gateway: SealingKeyPair;

  beforeAll(async () => {
    gateway = await SealingKeyPair.generate();
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    ({ AppModule } = (await import('../src/app.module')) as { AppModule: new () => unknown });
    instances = [await instance('pa/1'), await instance('pa/2')];
    ({ app: fakeVault } = await startTestApp('vault-adapters', FakeVaultModule));
    bus = testBus();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    nc = await connect({ servers: NATS_URL });
    await bus.request('policy.defaults.ensure.v1', {});
  });

  afterAll(async () => {
    await bus?.onApplicationShutdown();
    for (const app of instances) await app.close();
    await fakeVault?.close();
    await pg?.end();
    await nc?.close();
    await clearNamespaceKeys();
    await deleteNamespaceStreams();
    await db?.drop();
  });

  /** An instance as main.ts starts it: answering the broadcasts, so a change made through another reaches its caches. */
  async function instance(name: string): Promise<INestApplication> {
    const { app } = await startTestApp('policy-approval', AppModule);
    await app.get(OpsResponder).start({ service: 'policy-approval', logger: pino({ level: 'silent' }), instance: name });
    return app;
  }

  /** A service of one instance, for what must happen on that instance in particular. */
  async function approvalsOf(index: number) {
    const { ApprovalsService } = await import('../src/approvals/approvals.service');
    return (instances[index] as INestApplication).get(ApprovalsService);
  }

  /** A requester group of its own holding one policy, with its members. */
  async function groupWith(group: string, policy: Partial<AccessPolicyDefinition> | Record<string, unknown>, members: string[]): Promise<void> {
    await bus.request('policy.access-policy.put.v1', { name: `${group} policy`, policy: policy as AccessPolicyDefinition });
    await bus.request('policy.group.put.v1', { name: group, policies: [`${group} policy`] });
    for (const user of members) await bus.request('policy.group-member.add.v1', { group, user });
  }

  async function approverGroup(group: string, members: string[]): Promise<void> {
    await bus.request('policy.group.put.v1', { name: group, policies: [] });
    for (const user of members) await bus.request('policy.group-member.add.v1', { group, user });
  }

  async function listed(user: string, endpoint: string, accounts: VaultCredential[]) {
    vault.listing = accounts;
    return bus.request('policy.credentials.list.v1', { user, endpoint });
  }

  const inject = (user: string, endpoint: string, credentialId: string, extra: Partial<RequestOf<'policy.lease.open.v1'>> = {}) =>
    bus.request('policy.lease.open.v1', { credentialId, user, endpoint, sessionId: `s-${user}`, owner: 'pra', sealTo: gateway.publicKey, ...extra });

  const checkoutsOf = (name: string) => vault.checkouts.filter((c) => c.ref['account'] === name).length;

  async function events(subject: string): Promise<Array<Record<string, unknown>>> {
    const jsm = await nc.jetstreamManager();
    const stream = `${(process.env['OPENECM_NAMESPACE'] as string).toUpperCase()}_LEASE_EVENTS`;
    const info = await jsm.streams.info(stream);
    const out: Array<Record<string, unknown>> = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
      if (m && m.subject.endsWith(subject)) out.push(JSONCodec<Record<string, unknown>>().decode(m.data));
    }
    return out;
  }

  it('asks one approver, refuses the requester and outsiders, and checks out only once approved, on whichever instance', async () => {
    await approverGroup('Ops approvers', ['bob']);
    await groupWith('Contractors', { approval: { mode: 'manual', approverGroups: ['Ops approvers'], required: 1, expiresAfterMinutes: 30 } }, ['alice']);
    const list = await listed('alice', 'srv-m1', [account('m1-admin')]);
    expect(list.credentials).toEqual([expect.objectContaining({ name: 'srv\\m1-admin', approval: 'manual', policy: 'Contractors policy' })]);
    const id = list.credentials[0]?.id as string;

    const asked = await inject('alice', 'srv-m1', id);
    expect(asked).toMatchObject({ status: 'pending', policy: 'Contractors policy' });
    const approvalId = (asked as { approvalId: string }).approvalId;
    expect(checkoutsOf('m1-admin')).toBe(0);
    // asked again while pending: the same request, no second one
    await expect(inject('alice', 'srv-m1', id)).resolves.toMatchObject({ approvalId, status: 'pending' });
    expect((await events('policy.approval.requested.v1')).filter((e) => e['approvalId'] === approvalId)).toHaveLength(1);

    const forBob = await bus.request('policy.approval.list.v1', { status: 'pending', approver: 'bob', limit: 50 });
    expect(forBob.approvals.map((a) => a.approvalId)).toContain(approvalId);
    await expect(bus.request('policy.approval.list.v1', { status: 'pending', approver: 'alice', limit: 50 })).resolves.toEqual({ approvals: [] });

    await expect(bus.request('policy.approval.decide.v1', { approvalId, approver: 'alice', decision: 'approve' })).rejects.toMatchObject({ code: 'APPROVER_NOT_ELIGIBLE', message: 'nobody approves their own request' });
    await expect(bus.request('policy.approval.decide.v1', { approvalId, approver: 'mallory', decision: 'approve' })).rejects.toMatchObject({ code: 'APPROVER_NOT_ELIGIBLE' });

    // approved through one instance, polled through the other
    const approvals0 = await approvalsOf(0);
    const approvals1 = await approvalsOf(1);
    await expect(approvals0.decide({ approvalId, approver: 'Bob', decision: 'approve', comment: 'ticket CHG-1' })).resolves.toMatchObject({ status: 'approved' });
    await expect(approvals1.get(approvalId)).resolves.toMatchObject({ status: 'approved', decisions: [expect.objectContaining({ approver: 'Bob', group: 'Ops approvers', comment: 'ticket CHG-1' })] });

    const lease = await openLease(bus, { credentialId: id, user: 'alice', endpoint: 'srv-m1', sessionId: 's-alice', owner: 'pra', sealTo: gateway.publicKey });
    expect(checkoutsOf('m1-admin')).toBe(1);
    await expect(bus.request('policy.lease.get.v1', { leaseId: lease.leaseId, owner: null })).resolves.toMatchObject({ approvalId, policy: 'Contractors policy' });
    await expect(bus.request('policy.approval.get.v1', { approvalId })).resolves.toMatchObject({ leaseId: lease.leaseId });
    // the approval opened one lease: another injection asks again
    await expect(inject('alice', 'srv-m1', id)).resolves.toMatchObject({ status: 'pending' });
    await expect(bus.request('policy.approval.decide.v1', { approvalId, approver: 'bob', decision: 'deny' })).rejects.toMatchObject({ code: 'APPROVAL_NOT_PENDING' });
  });

  it('ends a request at the first denial, and a repeated injection is refused naming it', async () => {
    await approverGroup('Deniers', ['dora']);
    await groupWith('Denied', { approval: { mode: 'manual', approverGroups: ['Deniers'] } }, ['dan']);
    const id = (await listed('dan', 'srv-d1', [account('d1-admin')])).credentials[0]?.id as string;
    const { approvalId } = (await inject('dan', 'srv-d1', id)) as { approvalId: string };
    await expect(bus.request('policy.approval.decide.v1', { approvalId, approver: 'dora', decision: 'deny', comment: 'no change window' })).resolves.toMatchObject({ status: 'denied' });
    await expect(inject('dan', 'srv-d1', id)).rejects.toMatchObject({ code: 'APPROVAL_DENIED', details: { approvalId } });
    expect(checkoutsOf('d1-admin')).toBe(0);
    expect((await events('policy.approval.decided.v1')).find((e) => e['approvalId'] === approvalId)).toMatchObject({ status: 'denied', approver: 'dora' });
  });

  it('needs two approvers of two different groups for a 2-of-3 policy', async () => {
    await approverGroup('Net', ['nick', 'nora']);
    await approverGroup('Sec', ['sam']);
    await approverGroup('Dba', ['dbadmin']);
    await groupWith('Dual control', { approval: { mode: 'manual', approverGroups: ['Net', 'Sec', 'Dba'], required: 2 } }, ['carl']);
    const id = (await listed('carl', 'srv-q1', [account('q1-admin')])).credentials[0]?.id as string;
    const { approvalId } = (await inject('carl', 'srv-q1', id)) as { approvalId: string };
    await expect(bus.request('policy.approval.decide.v1', { approvalId, approver: 'nick', decision: 'approve' })).resolves.toMatchObject({ status: 'pending', approvals: 1 });
    // a second approver of the same group does not count twice
    await expect(bus.request('policy.approval.decide.v1', { approvalId, approver: 'nora', decision: 'approve' })).resolves.toMatchObject({ status: 'pending', approvals: 1 });
    await expect(bus.request('policy.approval.decide.v1', { approvalId, approver: 'nick', decision: 'approve' })).rejects.toMatchObject({ code: 'APPROVER_NOT_ELIGIBLE' });
    await expect(inject('carl', 'srv-q1', id)).resolves.toMatchObject({ status: 'pending', approvalId });
    await expect(bus.request('policy.approval.decide.v1', { approvalId, approver: 'sam', decision: 'approve' })).resolves.toMatchObject({ status: 'approved', approvals: 2 });
    await expect(openLease(bus, { credentialId: id, user: 'carl', endpoint: 'srv-q1', sessionId: 's', owner: 'pra', sealTo: gateway.publicKey })).resolves.toMatchObject({ username: 'q1-admin' });
  });

  it('expires an unanswered request by its delayed job, and the reconciler expires one whose job was lost', async () => {
    await approverGroup('Slow', ['sid']);
    await groupWith('Expiring', { approval: { mode: 'manual', approverGroups: ['Slow'], expiresAfterMinutes: 1 } }, ['erin', 'ezra']);
    const id = (await listed('erin', 'srv-e1', [account('e1-admin')])).credentials[0]?.id as string;
    const { approvalId } = (await inject('erin', 'srv-e1', id)) as { approvalId: string };
    const { ApprovalTimers } = await import('../src/approvals/approval-timers');
    const timers = (instances[0] as INestApplication).get(ApprovalTimers);
    // the request's time is up in a moment: its job moves forward with it
    await pg.query(`UPDATE policy.approval SET expires_at = now() + interval '300 milliseconds' WHERE id = $1`, [approvalId]);
    await (await timers.queue.getJob(`approval-expiry-${approvalId}`))?.changeDelay(300);
    await waitFor(async () => (await bus.request('policy.approval.get.v1', { approvalId })).status === 'expired', { what: 'expiry by the delayed job' });
    await waitFor(async () => (await events('policy.approval.decided.v1')).some((e) => e['approvalId'] === approvalId && e['status'] === 'expired'), { what: 'expiry event' });

    const other = (await listed('ezra', 'srv-e2', [account('e2-admin')])).credentials[0]?.id as string;
    const lost = ((await inject('ezra', 'srv-e2', other)) as { approvalId: string }).approvalId;
    await (await timers.queue.getJob(`approval-expiry-${lost}`))?.remove();
    await pg.query(`UPDATE policy.approval SET expires_at = now() - interval '1 second' WHERE id = $1`, [lost]);
    const { TimersProcessor } = await import('../src/approvals/timers.processor');
    await (instances[1] as INestApplication).get(TimersProcessor).reconcile();
    const row = await pg.query(`SELECT status FROM policy.approval WHERE id = $1`, [lost]);
    expect(row.rows[0]).toEqual({ status: 'expired' });
  });

  it('queues three users for an exclusive credential and checks out for none before their turn', async () => {
    await groupWith('Exclusive', { exclusive: true }, ['u1', 'u2', 'u3']);
    const shared = account('x-admin');
    const ids = await Promise.all(['u1', 'u2', 'u3'].map(async (u) => (await listed(u, 'srv-x1', [shared])).credentials[0]?.id as string));
    const first = await openLease(bus, { credentialId: ids[0] as string, user: 'u1', endpoint: 'srv-x1', sessionId: 's1', owner: 'pra', sealTo: gateway.publicKey });
    const second = await inject('u2', 'srv-x1', ids[1] as string).catch((e: OpenEcmError) => e);
    const third = await inject('u3', 'srv-x1', ids[2] as string).catch((e: OpenEcmError) => e);
    expect(second).toMatchObject({ code: 'CREDENTIAL_IN_USE', details: { queuePosition: 1 } });
    expect(third).toMatchObject({ code: 'CREDENTIAL_IN_USE', details: { queuePosition: 2 } });
    const q2 = (second as OpenEcmError).details?.queueId as string;
    const q3 = (third as OpenEcmError).details?.queueId as string;
    // asking again keeps the place
    await expect(inject('u2', 'srv-x1', ids[1] as string)).rejects.toMatchObject({ details: { queueId: q2, queuePosition: 1 } });
    await expect(bus.request('policy.queue.get.v1', { queueId: q3 })).resolves.toMatchObject({ status: 'waiting', queuePosition: 2, user: 'u3' });
    expect(checkoutsOf('x-admin')).toBe(1);

    await bus.request('policy.lease.release.v1', { leaseId: first.leaseId, owner: null });
    // the turn comes once the vault has it back
    await waitFor(async () => (await bus.request('policy.queue.get.v1', { queueId: q2 })).status === 'your-turn', { what: "u2's turn" });
    expect((await events('policy.queue.turn.v1')).find((e) => e['queueId'] === q2)).toMatchObject({ user: 'u2', credentialName: 'srv\\x-admin' });
    await expect(inject('u3', 'srv-x1', ids[2] as string)).rejects.toMatchObject({ code: 'CREDENTIAL_IN_USE', details: { queueId: q3 } });
    expect(checkoutsOf('x-admin')).toBe(1);
    const secondLease = await openLease(bus, { credentialId: ids[1] as string, user: 'u2', endpoint: 'srv-x1', sessionId: 's2', owner: 'pra', sealTo: gateway.publicKey });
    expect(checkoutsOf('x-admin')).toBe(2);
    await expect(bus.request('policy.queue.get.v1', { queueId: q2 })).resolves.toMatchObject({ status: 'served' });

    // u3's turn comes and goes untaken: the credential is free again after EXCLUSIVE_TURN_SECONDS
    await bus.request('policy.lease.release.v1', { leaseId: secondLease.leaseId, owner: null });
    await waitFor(async () => (await bus.request('policy.queue.get.v1', { queueId: q3 })).status === 'your-turn', { what: "u3's turn" });
    await waitFor(async () => (await bus.request('policy.queue.get.v1', { queueId: q3 })).status === 'expired', { what: "u3's turn to end", timeoutMs: 15_000 });
    await expect(openLease(bus, { credentialId: ids[0] as string, user: 'u1', endpoint: 'srv-x1', sessionId: 's1b', owner: 'pra', sealTo: gateway.publicKey })).resolves.toMatchObject({ username: 'x-admin' });
  });

  it('grants emergency access outside every window with a reason, flags and announces it', async () => {
    const closed = { timeZone: 'UTC', windows: [{ days: ['sun'], from: '00:00', to: '00:01' }] };
    await groupWith('On call', { schedule: closed, emergency: { allowed: true } }, ['olga']);
    // the list is refused outside the window, naming when it opens
    vault.listing = [account('o1-admin')];
    await expect(bus.request('policy.credentials.list.v1', { user: 'olga', endpoint: 'srv-o1' })).rejects.toMatchObject({ code: 'ACCESS_DENIED', details: { opensAt: expect.stringMatching(/T00:00:00\.000Z$/) } });
    // an id listed while the window was open (the policy widened, then narrowed again)
    await bus.request('policy.access-policy.put.v1', { name: 'On call policy', policy: { emergency: { allowed: true } } as AccessPolicyDefinition });
    const id = (await listed('olga', 'srv-o1', [account('o1-admin')])).credentials[0]?.id as string;
    await bus.request('policy.access-policy.put.v1', { name: 'On call policy', policy: { schedule: closed, emergency: { allowed: true } } as AccessPolicyDefinition });

    await expect(inject('olga', 'srv-o1', id)).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    await expect(inject('olga', 'srv-o1', id, { emergency: true })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', fields: [{ field: 'reason', message: 'required with emergency: true' }] });
    const lease = await openLease(bus, { credentialId: id, user: 'olga', endpoint: 'srv-o1', sessionId: 's-olga', owner: 'pra', sealTo: gateway.publicKey, emergency: true, reason: 'INC-42 production down' });
    await expect(bus.request('policy.lease.get.v1', { leaseId: lease.leaseId, owner: null })).resolves.toMatchObject({ emergency: true, reason: 'INC-42 production down', policy: 'On call policy' });
    expect((await events('policy.access.emergency.v1')).find((e) => e['leaseId'] === lease.leaseId)).toMatchObject({ reason: 'INC-42 production down', user: 'olga' });
    expect((await events('policy.lease.opened.v1')).find((e) => e['leaseId'] === lease.leaseId)).toMatchObject({ emergency: true });
  });

  it('asks for the reason a policy requires, and caps the release at its maximum', async () => {
    await groupWith('Audited', { requireReason: true, maxReleaseMinutes: 15 }, ['rita']);
    const id = (await listed('rita', 'srv-r1', [account('r1-admin')])).credentials[0]?.id as string;
    await expect(inject('rita', 'srv-r1', id)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', fields: [{ field: 'reason' }] });
    const lease = await openLease(bus, { credentialId: id, user: 'rita', endpoint: 'srv-r1', sessionId: 's', owner: 'pra', sealTo: gateway.publicKey, reason: 'patching' });
    expect(vault.checkouts.at(-1)).toMatchObject({ durationMinutes: 15 });
    expect(new Date(lease.releaseAt).getTime()).toBeLessThan(Date.now() + 16 * 60_000);
  });

  it('lists and injects only what a narrowed scope covers', async () => {
    await groupWith('Web team', { scope: { vaults: ['ps'], endpoints: ['web-*'], accounts: ['*\\web-*'] } }, ['wendy']);
    const all = [account('web-admin'), account('db-admin')];
    await expect(listed('wendy', 'web-01', all)).resolves.toMatchObject({ credentials: [expect.objectContaining({ name: 'srv\\web-admin' })] });
    expect((await listed('wendy', 'web-01', all)).credentials).toHaveLength(1);
    await expect(listed('wendy', 'db-01', all)).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    // an id listed before the scope narrowed is refused at injection
    await bus.request('policy.access-policy.put.v1', { name: 'Web team policy', policy: {} as AccessPolicyDefinition });
    const db01 = (await listed('wendy', 'web-01', all)).credentials.find((c) => c.name === 'srv\\db-admin')?.id as string;
    await bus.request('policy.access-policy.put.v1', { name: 'Web team policy', policy: { scope: { accounts: ['*\\web-*'] } } as AccessPolicyDefinition });
    await expect(inject('wendy', 'web-01', db01)).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    expect(checkoutsOf('db-admin')).toBe(0);
  });

  it('revokes a lease (released and rotated at once) and an approval with the lease it opened', async () => {
    await approverGroup('Rev approvers', ['ray']);
    await groupWith('Revocable', { approval: { mode: 'manual', approverGroups: ['Rev approvers'] } }, ['vic']);
    const id = (await listed('vic', 'srv-v1', [account('v1-admin', false)])).credentials[0]?.id as string;
    const { approvalId } = (await inject('vic', 'srv-v1', id)) as { approvalId: string };
    await bus.request('policy.approval.decide.v1', { approvalId, approver: 'ray', decision: 'approve' });
    const lease = await openLease(bus, { credentialId: id, user: 'vic', endpoint: 'srv-v1', sessionId: 'a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5', owner: 'pra', sealTo: gateway.publicKey });

    await expect(bus.request('policy.approval.revoke.v1', { approvalId, reason: 'left the company', by: 'admin' })).resolves.toEqual({ approvalId, status: 'revoked', leaseId: lease.leaseId });
    // rotated although the connection does not rotate after release
    const done = await waitFor(async () => {
      const l = await bus.request('policy.lease.get.v1', { leaseId: lease.leaseId, owner: null });
      return l.state === 'rotated' && l;
    }, { what: 'rotation of the revoked lease' });
    expect(done).toMatchObject({ releasedBy: 'revocation', revokedReason: 'left the company' });
    expect(vault.checkins.filter((c) => c.leaseId === lease.leaseId)).toEqual([expect.objectContaining({ rotate: true })]);
    expect((await events('policy.lease.revoked.v1')).find((e) => e['leaseId'] === lease.leaseId)).toMatchObject({ sessionId: 'a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5', reason: 'left the company', approvalId });
    await expect(bus.request('policy.lease.revoke.v1', { leaseId: lease.leaseId, reason: 'again', by: 'admin' })).rejects.toMatchObject({ code: 'LEASE_NOT_ACTIVE' });
  });

  it('keeps a pending request across a restart of every instance', async () => {
    await approverGroup('Night shift', ['nate']);
    await groupWith('Restart', { approval: { mode: 'manual', approverGroups: ['Night shift'] } }, ['rick']);
    const id = (await listed('rick', 'srv-p1', [account('p1-admin')])).credentials[0]?.id as string;
    const { approvalId } = (await inject('rick', 'srv-p1', id)) as { approvalId: string };
    for (const app of instances) await app.close();
    instances = [await instance('pa/3')];
    await expect(bus.request('policy.approval.get.v1', { approvalId })).resolves.toMatchObject({ status: 'pending' });
    await bus.request('policy.approval.decide.v1', { approvalId, approver: 'nate', decision: 'approve' });
    await expect(openLease(bus, { credentialId: id, user: 'rick', endpoint: 'srv-p1', sessionId: 's', owner: 'pra', sealTo: gateway.publicKey })).resolves.toMatchObject({ username: 'p1-admin' });
    instances.push(await instance('pa/4'));
  });

  it('refuses a policy in use, an unknown policy or approver group, naming the field', async () => {
    await expect(bus.request('policy.access-policy.delete.v1', { name: 'Secure Remote Access Approval Policy' })).rejects.toMatchObject({ code: 'POLICY_IN_USE' });
    await expect(bus.request('policy.group.put.v1', { name: 'Ghosts', policies: ['Secure Remote Access Approval Policy', 'no such policy'] })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', fields: [{ field: 'policies[1]' }] });
    await expect(bus.request('policy.access-policy.put.v1', { name: 'Typo', policy: { approval: { mode: 'manual', approverGroups: ['Secure Remote Access Requesters', 'Nobody'] } } as AccessPolicyDefinition })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [{ field: 'approval.approverGroups[1]' }],
    });
    await bus.request('policy.access-policy.put.v1', { name: 'Unused', policy: {} as AccessPolicyDefinition });
    await expect(bus.request('policy.access-policy.delete.v1', { name: 'unused' })).resolves.toEqual({ name: 'unused', deleted: true });
    await expect(bus.request('policy.access-policy.get.v1', { name: 'Unused' })).rejects.toMatchObject({ code: 'POLICY_NOT_FOUND' });
  });
});
