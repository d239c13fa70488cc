import {
  BROADCASTS,
  BROADCAST_SENDERS,
  CALLERS,
  EVENTS,
  STREAMS,
  SUBJECTS,
  answererOf,
  type BroadcastSubject,
  type ServiceName,
  type Subject,
} from '@openecm/contracts';
import type { ScanResult } from './bus-uses';
import { allows, servicePermissions } from './permissions';

const ROLES = 'libs/contracts/src/bus-roles.ts';

/**
 * What the code does on the bus against what the generated permissions let it do, both ways: a use NATS
 * would refuse, and a grant nothing uses (a permission wider than the role). Empty when they agree.
 */
export function checkUses(scan: ScanResult, namespace?: string): string[] {
  const permissions = servicePermissions(namespace);
  const q = (subject: string) => (namespace ? `${namespace}.${subject}` : subject);
  const problems = scan.unclassified.map((u) => `${u}, but not in a call this check understands (bus.request, @Handles, gather, answerBroadcast, .publish, .subscribe)`);

  for (const use of scan.uses) {
    const { publish, subscribe } = permissions[use.service];
    const refused = (what: string) => problems.push(`${use.where}: ${use.service} ${what}, which its NATS permissions refuse (grant it in ${ROLES})`);
    switch (use.kind) {
      case 'request':
        if (!(use.subject in SUBJECTS)) problems.push(`${use.where}: ${use.subject} is not a request subject of the contracts`);
        else if (!allows(publish, q(use.subject))) refused(`calls ${use.subject}`);
        break;
      case 'answer':
        if (!(use.subject in SUBJECTS)) problems.push(`${use.where}: ${use.subject} is not a request subject of the contracts`);
        else if (!allows(subscribe, q(use.subject))) refused(`answers ${use.subject} (the ${use.subject.split('.')[0]} domain is ${answererOf(use.subject as Subject)}'s)`);
        break;
      case 'broadcast':
        if (!allows(publish, q(use.subject))) refused(`sends the broadcast ${use.subject}`);
        break;
      case 'answer-broadcast':
        if (!allows(subscribe, q(use.subject))) refused(`answers the broadcast ${use.subject}`);
        break;
      case 'publish':
        if (!(use.subject in EVENTS)) problems.push(`${use.where}: ${use.subject} is published but is not an event of the contracts`);
        else if (!allows(publish, q(use.subject))) refused(`publishes ${use.subject}`);
        break;
      case 'subscribe':
        if (!allows(subscribe, q(use.subject))) refused(`subscribes to ${use.subject}`);
        break;
      case 'consume':
        if (Object.values(STREAMS).some((roles) => roles.filteredConsumers?.some((f) => f.service === use.service && f.durable === use.subject))) break;
        if (use.subject !== use.service) problems.push(`${use.where}: the durable consumer is ${use.subject}; its permissions are granted to a durable named ${use.service} (or one of filteredConsumers)`);
        else if (!Object.values(STREAMS).some((roles) => roles.consumers.includes(use.service))) refused('consumes a stream');
        break;
    }
  }

  const used = (service: ServiceName, kind: string, subject: string) => scan.uses.some((u) => u.service === service && u.kind === kind && u.subject === subject);
  for (const [subject, callers] of Object.entries(CALLERS) as Array<[Subject, readonly ServiceName[]]>) {
    for (const caller of callers) {
      if (!used(caller, 'request', subject)) problems.push(`${ROLES}: ${caller} may call ${subject} but never does; take it off CALLERS`);
    }
    if (!used(answererOf(subject), 'answer', subject)) problems.push(`${subject}: ${answererOf(subject)} has no @Handles for it`);
  }
  for (const broadcast of Object.keys(BROADCASTS)) {
    for (const sender of BROADCAST_SENDERS[broadcast as BroadcastSubject]) {
      if (!used(sender, 'broadcast', broadcast)) problems.push(`${ROLES}: ${sender} may send ${broadcast} but never does`);
    }
  }
  for (const [stream, roles] of Object.entries(STREAMS)) {
    for (const publisher of roles.publishers) {
      if (!roles.events.some((event) => used(publisher, 'publish', event))) problems.push(`${ROLES}: ${publisher} may publish to ${stream} but never does`);
    }
    for (const consumer of roles.consumers) {
      if (!used(consumer, 'consume', consumer)) problems.push(`${ROLES}: ${consumer} may consume ${stream} but never does`);
    }
    for (const filtered of roles.filteredConsumers ?? []) {
      if (!used(filtered.service, 'consume', filtered.durable)) problems.push(`${ROLES}: ${filtered.service} may consume ${stream} as ${filtered.durable} but never does`);
    }
  }
  return problems;
}
