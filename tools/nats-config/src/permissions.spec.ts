import { BROADCASTS, BROADCAST_SENDERS, CALLERS, EVENTS, SERVICE_NAMES, SUBJECTS, type BroadcastSubject, type Subject } from '@openecm/contracts';
import { allows, servicePermissions, subjectMatches } from './permissions';

const tokenSubjects = Object.keys(SUBJECTS).filter((s) => s.startsWith('token.'));

describe('service permissions', () => {
  const permissions = servicePermissions(undefined);

  it('lets vault-adapters alone call token-cache; the gateway cannot publish to any token subject', () => {
    expect(tokenSubjects.length).toBeGreaterThan(0);
    // a token subject nobody calls (token.cache.get.v1 today) is granted to nobody
    for (const subject of tokenSubjects) {
      expect([subject, allows(permissions['vault-adapters'].publish, subject)]).toEqual([subject, CALLERS[subject as Subject].length > 0]);
    }
    for (const service of SERVICE_NAMES.filter((s) => s !== 'vault-adapters')) {
      for (const subject of [...tokenSubjects, 'token.anything.else.v1']) expect(allows(permissions[service].publish, subject)).toBe(false);
    }
  });

  it('lets only the owner of a domain take its requests', () => {
    const owner = { policy: 'policy-approval', vault: 'vault-adapters', token: 'token-cache', reporting: 'session-reporting' } as Record<string, string>;
    for (const subject of Object.keys(SUBJECTS)) {
      for (const service of SERVICE_NAMES) {
        expect([service, subject, allows(permissions[service].subscribe, subject)]).toEqual([service, subject, owner[subject.split('.')[0] as string] === service]);
      }
    }
  });

  it('lets policy-approval alone publish the lease events, every service answer the broadcasts, and only their senders send them', () => {
    for (const event of Object.keys(EVENTS)) {
      for (const service of SERVICE_NAMES) expect(allows(permissions[service].publish, event)).toBe(service === 'policy-approval');
    }
    expect(BROADCAST_SENDERS['ops.log-level.set.v1']).toEqual(['appliance-gateway']);
    expect(BROADCAST_SENDERS['ops.cache.invalidate.v1']).toEqual(['vault-adapters', 'policy-approval']);
    for (const broadcast of Object.keys(BROADCASTS)) {
      for (const service of SERVICE_NAMES) {
        expect(allows(permissions[service].subscribe, broadcast)).toBe(true);
        expect(allows(permissions[service].publish, broadcast)).toBe((BROADCAST_SENDERS[broadcast as BroadcastSubject] as readonly string[]).includes(service));
      }
    }
  });

  it('gives each service an inbox of its own and no one another service\'s replies', () => {
    for (const service of SERVICE_NAMES) {
      const { subscribe, publish } = permissions[service];
      expect(allows(subscribe, `_INBOX.${service}.abc.1`)).toBe(true);
      for (const other of SERVICE_NAMES.filter((s) => s !== service)) expect(allows(subscribe, `_INBOX.${other}.abc.1`)).toBe(false);
      expect(allows(subscribe, '_INBOX.abc')).toBe(false);
      // replies go out through allow_responses, never a publish grant on inboxes
      expect(publish.some((p) => p.startsWith('_INBOX'))).toBe(false);
    }
  });

  it('grants JetStream as each role needs it: each consumer its own durable (the gateway for the audit trail), none a deletion', () => {
    const reporting = permissions['session-reporting'].publish;
    expect(allows(reporting, '$JS.API.CONSUMER.MSG.NEXT.LEASE_EVENTS.session-reporting')).toBe(true);
    expect(allows(reporting, '$JS.ACK.LEASE_EVENTS.session-reporting.1.2.3.4.5')).toBe(true);
    expect(allows(reporting, '$JS.API.CONSUMER.MSG.NEXT.LEASE_EVENTS.someone-else')).toBe(false);
    expect(allows(reporting, '$JS.API.STREAM.DELETE.LEASE_EVENTS')).toBe(false);
    expect(allows(permissions['policy-approval'].publish, '$JS.API.STREAM.CREATE.LEASE_EVENTS')).toBe(true);
    const gateway = permissions['appliance-gateway'].publish;
    expect(allows(gateway, '$JS.API.STREAM.INFO.LEASE_EVENTS')).toBe(true);
    expect(allows(gateway, '$JS.API.CONSUMER.MSG.NEXT.LEASE_EVENTS.appliance-gateway')).toBe(true);
    expect(allows(gateway, '$JS.API.CONSUMER.MSG.NEXT.LEASE_EVENTS.session-reporting')).toBe(false);
    expect(allows(gateway, '$JS.API.STREAM.DELETE.LEASE_EVENTS')).toBe(false);
    for (const service of ['vault-adapters', 'token-cache'] as const) expect(permissions[service].publish.some((p) => p.startsWith('$JS'))).toBe(false);
  });

  it('grants a filtered durable its create subject with its one event, and to its service alone', () => {
    const reporting = permissions['session-reporting'].publish;
    expect(allows(reporting, '$JS.API.CONSUMER.CREATE.LEASE_EVENTS.session-reporting-revocations.policy.lease.revoked.v1')).toBe(true);
    expect(allows(reporting, '$JS.API.CONSUMER.CREATE.LEASE_EVENTS.session-reporting-revocations')).toBe(false);
    expect(allows(reporting, '$JS.API.CONSUMER.CREATE.LEASE_EVENTS.session-reporting-revocations.policy.lease.opened.v1')).toBe(false);
    expect(allows(reporting, '$JS.API.CONSUMER.MSG.NEXT.LEASE_EVENTS.session-reporting-revocations')).toBe(true);
    expect(allows(reporting, '$JS.ACK.LEASE_EVENTS.session-reporting-revocations.1.2.3.4.5')).toBe(true);
    const spaced = servicePermissions('tabc')['session-reporting'].publish;
    expect(allows(spaced, '$JS.API.CONSUMER.CREATE.TABC_LEASE_EVENTS.session-reporting-revocations.tabc.policy.lease.revoked.v1')).toBe(true);
    for (const service of SERVICE_NAMES.filter((s) => s !== 'session-reporting')) {
      expect(permissions[service].publish.some((p) => p.includes('session-reporting-revocations'))).toBe(false);
    }
  });

  it('grants nothing as wide as a whole domain', () => {
    for (const service of SERVICE_NAMES) {
      for (const pattern of [...permissions[service].publish, ...permissions[service].subscribe]) {
        expect([pattern, /^(\$JS\.ACK|_INBOX)\./.test(pattern) || !/[*>]/.test(pattern)]).toEqual([pattern, true]);
      }
    }
  });

  it('puts every subject, stream and inbox under the namespace', () => {
    const spaced = servicePermissions('tabc');
    expect(allows(spaced['vault-adapters'].publish, 'tabc.token.cache.put.v1')).toBe(true);
    expect(allows(spaced['vault-adapters'].publish, 'token.cache.put.v1')).toBe(false);
    expect(allows(spaced['token-cache'].subscribe, 'tabc.token.cache.put.v1')).toBe(true);
    expect(allows(spaced['token-cache'].subscribe, '_INBOX.tabc.token-cache.x')).toBe(true);
    expect(allows(spaced['token-cache'].subscribe, '_INBOX.token-cache.x')).toBe(false);
    expect(allows(spaced['session-reporting'].publish, '$JS.API.CONSUMER.MSG.NEXT.TABC_LEASE_EVENTS.session-reporting')).toBe(true);
    for (const service of SERVICE_NAMES) {
      for (const pattern of [...spaced[service].publish, ...spaced[service].subscribe]) {
        expect([pattern, /^(tabc\.|\$JS\.(API|ACK)\.|_INBOX\.tabc\.)/.test(pattern)]).toEqual([pattern, true]);
      }
    }
  });
});

describe('subject patterns', () => {
  it.each([
    ['a.b', 'a.b', true],
    ['a.b', 'a.b.c', false],
    ['a.*', 'a.b', true],
    ['a.*', 'a.b.c', false],
    ['a.>', 'a.b.c', true],
    ['a.>', 'a', false],
    ['*.b', 'x.b', true],
  ])('%s matches %s: %s', (pattern, subject, expected) => {
    expect(subjectMatches(pattern, subject)).toBe(expected);
  });
});
