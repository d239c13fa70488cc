import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EVENTS, LEASE_EVENTS_STREAM } from '@openecm/contracts';
import { NatsConnectionProvider, consumeDurably, ensureEventStream, eventSubjectOf, type DurableConsumer } from '@openecm/messaging';
import { applianceSessionsTerminated } from '@openecm/telemetry';
import { child, parseXml } from '@openecm/xml';
import { COMMAND_NS } from './appliance-client';
import { ApplianceConnections } from './appliance-connection.service';

/** Every instance pulls from this one durable (policy.lease.revoked.v1 only), so each revocation ends its session once. */
export const DURABLE_NAME = 'session-reporting-revocations';

/** The appliance out of reach is tried again every 15 s, for about five minutes, then given up (and logged). */
const MAX_DELIVER = 20;
const RETRY_DELAY_MS = 15_000;

/** The appliance's session ids are 32 hexadecimal characters; a lease may carry any other session id. */
const LSID = /^[0-9a-f]{32}$/i;

export type TerminateOutcome = 'terminated' | 'refused' | 'skipped' | 'unconfigured';

/** What the appliance answered to terminate_session: `<success>` or `<error>` in the Command API namespace. */
export function readTerminateAnswer(xml: string): { ok: true } | { ok: false; message: string } {
  const root = parseXml(xml, { maxElements: 64, maxDepth: 8 });
  if (root.ns !== COMMAND_NS && root.ns !== undefined) throw new Error('the appliance answered outside the Command API namespace');
  if (root.local === 'success') return { ok: true };
  if (root.local === 'error') return { ok: false, message: shown(root.text) };
  const nested = child(root, 'error');
  if (nested) return { ok: false, message: shown(nested.text) };
  throw new Error(`the appliance answered terminate_session with <${root.local.slice(0, 40)}>`);
}

/** The appliance's message as it may be logged: one line, bounded. */
const shown = (text: string) => text.replace(/\p{Cc}+/gu, ' ').trim().slice(0, 200);

/**
 * Ends the appliance session of a revoked lease through the Command API (`terminate_session` with its lsid),
 * when an appliance connection is configured. An answer of the appliance, success or error, is final; the
 * appliance out of reach (or answering 5xx) leaves the event unacknowledged, so it comes again, a bounded number
 * of times.
 */
@Injectable()
export class SessionTerminator implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SessionTerminator.name);
  private consumer?: DurableConsumer;

  constructor(
    private readonly nats: NatsConnectionProvider,
    private readonly connections: ApplianceConnections,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const nc = await this.nats.get();
    const stream = await ensureEventStream(await nc.jetstreamManager(), LEASE_EVENTS_STREAM);
    this.consumer = await consumeDurably(nc, stream, DURABLE_NAME, (subject, data, sequence) => this.handle(subject, data, sequence), {
      event: 'policy.lease.revoked.v1',
      maxDeliver: MAX_DELIVER,
      retryDelayMs: RETRY_DELAY_MS,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.stop();
  }

  private async handle(qualifiedSubject: string, data: unknown, sequence: number): Promise<void> {
    if (eventSubjectOf(qualifiedSubject) !== 'policy.lease.revoked.v1') return;
    const parsed = EVENTS['policy.lease.revoked.v1'].safeParse(data);
    if (!parsed.success) {
      this.logger.warn({ msg: 'revocation event of an unexpected shape skipped', sequence });
      applianceSessionsTerminated.inc({ outcome: 'skipped' });
      return;
    }
    const outcome = await this.terminate(parsed.data.sessionId, parsed.data.leaseId, sequence);
    applianceSessionsTerminated.inc({ outcome });
  }

  /** Throws only for what may succeed later: the appliance out of reach, a 5xx, its secret not opening. */
  private async terminate(lsid: string, leaseId: string, sequence: number): Promise<TerminateOutcome> {
    if (!LSID.test(lsid)) {
      this.logger.log({ msg: 'revoked lease names no appliance session id (32 hex characters): nothing to end', leaseId, sequence });
      return 'skipped';
    }
    const connection = await this.connections.open();
    if (!connection) {
      this.logger.log({ msg: 'no appliance connection configured: the revoked lease\'s session is not ended at the appliance', leaseId, lsid });
      return 'unconfigured';
    }
    try {
      const answer = readTerminateAnswer(await connection.client.command('terminate_session', { lsid }));
      if (answer.ok) {
        this.logger.log({ msg: 'appliance session of a revoked lease terminated', leaseId, lsid });
        return 'terminated';
      }
      this.logger.warn({ msg: 'the appliance refused to terminate the session of a revoked lease', leaseId, lsid, appliance: answer.message });
      return 'refused';
    } catch (error) {
      applianceSessionsTerminated.inc({ outcome: 'failed' });
      this.logger.warn({ msg: 'terminating the appliance session of a revoked lease failed; it will be tried again', leaseId, lsid, error: (error as Error).message });
      throw error;
    } finally {
      await connection.client.close();
    }
  }
}
