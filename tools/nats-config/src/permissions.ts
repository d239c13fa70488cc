import {
  BROADCASTS,
  BROADCAST_SENDERS,
  CALLERS,
  SERVICE_NAMES,
  STREAMS,
  answererOf,
  qualify,
  serviceInbox,
  streamName,
  type BroadcastSubject,
  type ServiceName,
  type Subject,
} from '@openecm/contracts';

/** What one service's NATS user may do, as nats-server's `permissions` block says it. */
export interface ServicePermissions {
  publish: string[];
  subscribe: string[];
}

/**
 * The JetStream API subjects a stream's users need, by role. The durable consumer named after its service takes
 * every subject of the stream (no filter, so no filtered-create subject); a filtered consumer is created with its
 * one subject in the create subject (`$JS.API.CONSUMER.CREATE.<stream>.<durable>.<filter>`).
 */
function jetstreamGrants(stream: string, role: 'manage' | 'inspect', consumer?: string, filter?: string): string[] {
  const api = '$JS.API';
  const grants = [`${api}.INFO`, `${api}.STREAM.INFO.${stream}`];
  if (role === 'manage') grants.push(`${api}.STREAM.CREATE.${stream}`, `${api}.STREAM.UPDATE.${stream}`);
  if (consumer) {
    grants.push(
      `${api}.CONSUMER.INFO.${stream}.${consumer}`,
      filter ? `${api}.CONSUMER.CREATE.${stream}.${consumer}.${filter}` : `${api}.CONSUMER.CREATE.${stream}.${consumer}`,
      `${api}.CONSUMER.DURABLE.CREATE.${stream}.${consumer}`,
      `${api}.CONSUMER.MSG.NEXT.${stream}.${consumer}`,
      `$JS.ACK.${stream}.${consumer}.>`,
    );
  }
  return grants;
}

/**
 * Every service's permissions, derived from the bus roles of libs/contracts for one deployment namespace:
 * it publishes the requests it may call, the broadcasts it may send and the events it keeps, and subscribes to
 * the requests its domain answers, the broadcasts and its own inbox. Replies go out through
 * `allow_responses` (a service may answer a request it received, and publish to no inbox otherwise).
 */
export function servicePermissions(namespace: string | undefined): Record<ServiceName, ServicePermissions> {
  const q = (subject: string) => qualify(subject, namespace);
  const result = {} as Record<ServiceName, ServicePermissions>;
  for (const service of SERVICE_NAMES) {
    const publish = new Set<string>();
    const subscribe = new Set<string>();
    for (const [subject, callers] of Object.entries(CALLERS) as Array<[Subject, readonly ServiceName[]]>) {
      if (callers.includes(service)) publish.add(q(subject));
      if (answererOf(subject) === service) subscribe.add(q(subject));
    }
    for (const broadcast of Object.keys(BROADCASTS)) {
      subscribe.add(q(broadcast));
      if ((BROADCAST_SENDERS[broadcast as BroadcastSubject] as readonly ServiceName[]).includes(service)) publish.add(q(broadcast));
    }
    for (const [base, roles] of Object.entries(STREAMS)) {
      const stream = streamName(base, namespace);
      if (roles.publishers.includes(service)) {
        for (const event of roles.events) publish.add(q(event));
        for (const grant of jetstreamGrants(stream, 'manage')) publish.add(grant);
      }
      if (roles.consumers.includes(service)) for (const grant of jetstreamGrants(stream, 'manage', service)) publish.add(grant);
      for (const filtered of roles.filteredConsumers ?? []) {
        if (filtered.service === service) for (const grant of jetstreamGrants(stream, 'manage', filtered.durable, q(filtered.event))) publish.add(grant);
      }
      if (roles.inspectors.includes(service)) for (const grant of jetstreamGrants(stream, 'inspect')) publish.add(grant);
    }
    subscribe.add(`${serviceInbox(service, namespace)}.>`);
    result[service] = { publish: [...publish].sort(), subscribe: [...subscribe].sort() };
  }
  return result;
}

/** True when `subject` is matched by a NATS subject pattern (`*` one token, `>` one or more at the end). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

export function allows(patterns: readonly string[], subject: string): boolean {
  return patterns.some((pattern) => subjectMatches(pattern, subject));
}
