import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SERVICE_NAMES } from '@openecm/contracts';
import { scanFiles, scanRepository, type ScanResult } from './bus-uses';
import { checkUses } from './check';

const ROOT = resolve(__dirname, '../../..');

describe('the code against its bus permissions', () => {
  const scan = scanRepository(ROOT);

  it('finds the calls each service makes (the scan is not blind)', () => {
    const has = (service: string, kind: string, subject: string) => scan.uses.some((u) => u.service === service && u.kind === kind && u.subject === subject);
    expect(has('vault-adapters', 'request', 'token.cache.put.v1')).toBe(true);
    expect(has('policy-approval', 'request', 'vault.credentials.checkout.v1')).toBe(true);
    expect(has('appliance-gateway', 'request', 'policy.lease.open.v1')).toBe(true);
    expect(has('appliance-gateway', 'broadcast', 'ops.instance.ping.v1')).toBe(true);
    expect(has('token-cache', 'answer', 'token.cache.put.v1')).toBe(true);
    expect(has('policy-approval', 'publish', 'policy.lease.opened.v1')).toBe(true);
    expect(has('session-reporting', 'consume', 'session-reporting')).toBe(true);
    expect(has('session-reporting', 'consume', 'session-reporting-revocations')).toBe(true);
    for (const service of SERVICE_NAMES) expect(has(service, 'answer-broadcast', 'ops.instance.ping.v1')).toBe(true);
  });

  it('lets every service do what its code does, and grants nothing its code does not use', () => {
    expect(checkUses(scan)).toEqual([]);
    expect(checkUses(scan, 'tabc')).toEqual([]);
  });

  it('names every app in its messaging, so its replies come back on its own inbox', () => {
    for (const service of SERVICE_NAMES) {
      const module = readFileSync(join(ROOT, 'apps', service, 'src', 'app.module.ts'), 'utf8');
      expect([service, module.includes(`MessagingModule.forService('${service}')`)]).toEqual([service, true]);
    }
  });
});

describe('the check', () => {
  const real = scanRepository(ROOT);
  const before = new Set(checkUses(real));
  /** The problems one more file of a service's code adds to those of the repository. */
  const check = (service: (typeof SERVICE_NAMES)[number], text: string): string[] => {
    const own = scanFiles(service, [{ path: `apps/${service}/src/x.ts`, text }]);
    const merged: ScanResult = { uses: [...real.uses, ...own.uses], unclassified: [...real.unclassified, ...own.unclassified] };
    return checkUses(merged).filter((p) => !before.has(p));
  };

  it('fails a service that calls a subject its role does not grant, naming the file and line', () => {
    const problems = check('appliance-gateway', "\nconst a = await this.bus.request(\n  'token.cache.get.v1', { vault: 'v', user: 'u' });\n");
    expect(problems).toEqual([expect.stringMatching(/^apps\/appliance-gateway\/src\/x\.ts:3: appliance-gateway calls token\.cache\.get\.v1, which its NATS permissions refuse/)]);
  });

  it('fails a service that answers or publishes outside its role', () => {
    expect(check('token-cache', "@Handles('vault.credentials.list.v1')")).toEqual([expect.stringContaining('token-cache answers vault.credentials.list.v1')]);
    expect(check('vault-adapters', "await this.events.publish('policy.lease.opened.v1', event)")).toEqual([expect.stringContaining('vault-adapters publishes policy.lease.opened.v1')]);
    expect(check('token-cache', "broadcaster.gather('ops.log-level.set.v1', {})")).toEqual([expect.stringContaining('token-cache sends the broadcast ops.log-level.set.v1')]);
  });

  it('fails a subject it cannot see the use of, and a subject outside the contracts', () => {
    expect(check('appliance-gateway', "const subject = 'token.cache.get.v1';\n")).toEqual([expect.stringContaining('x.ts:1 names token.cache.get.v1, but not in a call')]);
    expect(check('appliance-gateway', "type A = ReplyOf<'token.cache.get.v1'>;\n")).toEqual([]);
    expect(check('appliance-gateway', "await this.bus.request('policy.lease.steal.v1', {})")).toEqual([expect.stringContaining('not a request subject of the contracts')]);
  });

  it('fails a durable consumer named other than its service', () => {
    expect(check('session-reporting', "export const DURABLE_NAME = 'reports';\nawait consumeDurably(nc, s, DURABLE_NAME, h);")).toEqual([
      expect.stringContaining('the durable consumer is reports'),
    ]);
  });

  it('takes a filtered durable of the bus roles for its service only', () => {
    const consumer = "export const DURABLE_NAME = 'session-reporting-revocations';\nawait consumeDurably(nc, s, DURABLE_NAME, h, { event: 'policy.lease.revoked.v1' });";
    expect(check('session-reporting', consumer)).toEqual([]);
    expect(check('policy-approval', consumer)).toEqual([expect.stringContaining('the durable consumer is session-reporting-revocations')]);
  });

  it('fails a grant nothing uses, and a subject nobody answers', () => {
    const without = (drop: (u: ScanResult['uses'][number]) => boolean): string[] =>
      checkUses({ uses: real.uses.filter((u) => !drop(u)), unclassified: real.unclassified }).filter((p) => !before.has(p));
    expect(without((u) => u.service === 'policy-approval' && u.subject === 'vault.credentials.checkin.v1')).toEqual([
      expect.stringContaining('policy-approval may call vault.credentials.checkin.v1 but never does'),
    ]);
    expect(without((u) => u.kind === 'answer' && u.subject === 'token.cache.put.v1')).toEqual(['token.cache.put.v1: token-cache has no @Handles for it']);
  });

  it('takes the events a consumer handles for no use of the bus, but not a core subscription to one', () => {
    expect(check('session-reporting', "const CLASSIFY = {\n  'policy.lease.opened.v1': (e) => e,\n};")).toEqual([]);
    expect(check('session-reporting', "if (eventSubjectOf(s) !== 'policy.lease.opened.v1') return;\nEVENTS['policy.lease.opened.v1'].parse(d);")).toEqual([]);
    expect(check('session-reporting', "nc.subscribe('policy.lease.opened.v1', { callback })")).toEqual([expect.stringContaining('session-reporting subscribes to policy.lease.opened.v1')]);
    expect(check('vault-adapters', "await publishEvent(js, 'policy.lease.failed.v1', event, id)")).toEqual([expect.stringContaining('vault-adapters publishes policy.lease.failed.v1')]);
  });
});
