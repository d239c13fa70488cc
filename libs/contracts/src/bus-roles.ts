import { LEASE_EVENTS_STREAM, LEASE_STREAM_EVENTS, LISTINGS_STREAM, LISTING_EVENTS, type EventSubject } from './events';
import type { BroadcastSubject, ServiceName } from './ops';
import { qualify, type Subject } from './subjects';

/**
 * Which service may do what on the bus: stated here once. The NATS permissions of every service's user
 * (tools/nats-config) are made from it, and a test checks the code against it, so a service that calls a
 * subject not granted here fails that test before NATS would refuse it.
 */

/** The service answering a request subject is the one that owns its domain: `token.…` is token-cache's. */
export const DOMAIN_OWNERS = {
  policy: 'policy-approval',
  vault: 'vault-adapters',
  token: 'token-cache',
  reporting: 'session-reporting',
} as const satisfies Record<string, ServiceName>;

export function answererOf(subject: Subject): ServiceName {
  const domain = subject.slice(0, subject.indexOf('.')) as keyof typeof DOMAIN_OWNERS;
  return DOMAIN_OWNERS[domain];
}

/**
 * Who may send each request subject. A new subject must name its callers here (a compile error otherwise);
 * token-cache is called by vault-adapters alone, so nothing else can read or plant a vault session.
 */
export const CALLERS = {
  'policy.credentials.list.v1': ['appliance-gateway'],
  'policy.lease.open.v1': ['appliance-gateway'],
  'policy.lease.release.v1': ['appliance-gateway'],
  'policy.lease.get.v1': ['appliance-gateway'],
  'policy.lease.list.v1': ['appliance-gateway'],
  'policy.lease.revoke.v1': ['appliance-gateway'],
  'policy.access-policy.put.v1': ['appliance-gateway'],
  'policy.access-policy.get.v1': ['appliance-gateway'],
  'policy.access-policy.list.v1': ['appliance-gateway'],
  'policy.access-policy.delete.v1': ['appliance-gateway'],
  'policy.group.put.v1': ['appliance-gateway'],
  'policy.group.list.v1': ['appliance-gateway'],
  'policy.approval.list.v1': ['appliance-gateway'],
  'policy.approval.get.v1': ['appliance-gateway'],
  'policy.approval.decide.v1': ['appliance-gateway'],
  'policy.approval.revoke.v1': ['appliance-gateway'],
  'policy.queue.get.v1': ['appliance-gateway'],
  'policy.defaults.ensure.v1': ['appliance-gateway'],
  'policy.group-member.add.v1': ['appliance-gateway'],
  'policy.group-member.remove.v1': ['appliance-gateway'],
  'policy.jump-items.search.v1': ['appliance-gateway'],
  'policy.jump-items.recent.v1': ['appliance-gateway'],
  'policy.jump-settings.get.v1': ['appliance-gateway'],
  'policy.jump-settings.put.v1': ['appliance-gateway'],
  'vault.credentials.list.v1': ['policy-approval'],
  'vault.credentials.checkout.v1': ['policy-approval'],
  'vault.credentials.checkin.v1': ['policy-approval'],
  'vault.checkouts.sweep.v1': ['policy-approval'],
  'vault.systems.search.v1': ['policy-approval'],
  'vault.connection.upsert.v1': ['appliance-gateway'],
  'vault.connection.list.v1': ['appliance-gateway'],
  'vault.connection.test.v1': ['appliance-gateway'],
  'vault.clock.check.v1': ['appliance-gateway'],
  'vault.sealing-key.get.v1': ['appliance-gateway'],
  'vault.sessions.clear.v1': ['appliance-gateway'],
  'vault.keys.reseal.v1': ['appliance-gateway'],
  'vault.session-keyring.check.v1': ['appliance-gateway'],
  'token.keyring.check.v1': ['vault-adapters'],
  'token.cache.get.v1': [],
  'token.cache.claim.v1': ['vault-adapters'],
  'token.cache.abandon.v1': ['vault-adapters'],
  'token.cache.put.v1': ['vault-adapters'],
  'token.cache.delete.v1': ['vault-adapters'],
  'reporting.summary.get.v1': ['appliance-gateway'],
  'reporting.sessions.query.v1': ['appliance-gateway'],
  'reporting.events.query.v1': ['appliance-gateway'],
  'reporting.session.get.v1': ['appliance-gateway'],
  'reporting.events.ingest.v1': ['appliance-gateway'],
  'reporting.appliance.get.v1': ['appliance-gateway'],
  'reporting.appliance.put.v1': ['appliance-gateway'],
  'reporting.sealing-key.get.v1': ['appliance-gateway'],
} as const satisfies Record<Subject, readonly ServiceName[]>;

/**
 * The broadcasts are answered by every instance of every service. The gateway's ops routes send the ops ones;
 * a cache invalidation is sent by the service that owns the cache, to its own instances.
 */
export const BROADCAST_SENDERS = {
  'ops.instance.ping.v1': ['appliance-gateway'],
  'ops.log-level.set.v1': ['appliance-gateway'],
  'ops.cache.invalidate.v1': ['vault-adapters', 'policy-approval'],
} as const satisfies Record<BroadcastSubject, readonly ServiceName[]>;

export interface StreamRoles {
  /** The events the stream keeps; publishing them is granted to `publishers`. */
  events: readonly EventSubject[];
  /** How long the stream keeps an event (its max age). */
  keepDays: number;
  /** Publish the events and create or update the stream. */
  publishers: readonly ServiceName[];
  /** Consume it through a durable consumer named after the service, and create or update the stream. */
  consumers: readonly ServiceName[];
  /** Read the stream's state only (diagnostics). */
  inspectors: readonly ServiceName[];
  /**
   * Durable consumers a consumer service has besides the one named after it, each taking one event of the
   * stream (its filter subject: JetStream 2.9 allows one per consumer).
   */
  filteredConsumers?: readonly FilteredConsumer[];
}

export interface FilteredConsumer {
  service: ServiceName;
  durable: string;
  event: EventSubject;
}

/** The JetStream streams, by base name (the deployment's namespace prefixes it). */
export const STREAMS: Record<string, StreamRoles> = {
  [LEASE_EVENTS_STREAM]: {
    events: LEASE_STREAM_EVENTS,
    keepDays: 30,
    publishers: ['policy-approval'],
    consumers: ['session-reporting', 'policy-approval', 'appliance-gateway'],
    inspectors: ['appliance-gateway'],
    // a revocation ends the appliance session, once whichever instance takes it
    filteredConsumers: [{ service: 'session-reporting', durable: 'session-reporting-revocations', event: 'policy.lease.revoked.v1' }],
  },
  [LISTINGS_STREAM]: {
    events: LISTING_EVENTS,
    // a report line of what was listed; the audit trail keeps every list for its own retention
    keepDays: 1,
    publishers: ['policy-approval'],
    consumers: ['session-reporting'],
    inspectors: [],
  },
};

/**
 * The subjects the replies to one service arrive on. Each service has inbox subjects of its own, so its NATS
 * user may subscribe to those and to no other service's: nobody reads the answers another service is given.
 */
export function serviceInbox(service: string, namespace: string | undefined): string {
  return `_INBOX.${qualify(service, namespace)}`;
}
