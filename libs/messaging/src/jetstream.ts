import { Logger } from '@nestjs/common';
import { SpanKind, inSpan } from '@openecm/telemetry';
import {
  AckPolicy,
  DeliverPolicy,
  JSONCodec,
  RetentionPolicy,
  StorageType,
  nanos,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import { EVENTS, STREAMS, parseOrThrow, type EventOf, type EventSubject } from '@openecm/contracts';
import { contextFromHeaders, traceHeaders } from './headers';
import { currentNamespace, qualifiedStream, qualifiedSubject } from './namespace';

const codec = JSONCodec<unknown>();
const logger = new Logger('jetstream');

/** Creates or updates a stream that keeps the given event subjects (qualified by the namespace). */
export async function ensureStream(jsm: JetStreamManager, base: string, events: readonly EventSubject[], keepDays = 30): Promise<string> {
  const name = qualifiedStream(base);
  const subjects = events.map(qualifiedSubject);
  const config = {
    name,
    subjects,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    max_age: nanos(keepDays * 24 * 3600 * 1000),
    duplicate_window: nanos(10 * 60 * 1000),
  };
  try {
    await jsm.streams.info(name);
    await jsm.streams.update(name, config);
  } catch (error) {
    if (!String((error as Error).message).includes('stream not found')) throw error;
    await jsm.streams.add(config);
  }
  return name;
}

/**
 * Creates or updates one of the event streams as the bus roles describe it (`STREAMS`). The lease stream is
 * ensured first by whoever needs both: a stream of an earlier release that also kept the listings gives their
 * subject up there, before the listings' own stream takes it.
 */
export async function ensureEventStream(jsm: JetStreamManager, base: keyof typeof STREAMS): Promise<string> {
  const roles = STREAMS[base];
  if (!roles) throw new Error(`no stream ${base} in the bus roles`);
  return ensureStream(jsm, base, roles.events, roles.keepDays);
}

/**
 * Publishes a fact that must not be lost. `dedupeId` makes a retried publish count once
 * (JetStream's duplicate window).
 */
export async function publishEvent<E extends EventSubject>(
  js: JetStreamClient,
  subject: E,
  event: EventOf<E>,
  dedupeId: string,
): Promise<void> {
  const payload = parseOrThrow(EVENTS[subject], event, subject);
  await inSpan(`${subject} publish`, { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject } }, async () => {
    await js.publish(qualifiedSubject(subject), codec.encode(payload), { msgID: dedupeId, headers: traceHeaders() });
  });
}

export interface DurableConsumer {
  stop(): Promise<void>;
}

export interface DurableOptions {
  /** The one event this consumer takes (JetStream 2.9 allows one filter subject); every event of the stream otherwise. */
  event?: EventSubject;
  /** Deliveries of a message whose handling keeps failing before it is given up (terminated); unbounded otherwise. */
  maxDeliver?: number;
  /** How long a failed message waits before it is delivered again (1 s unless told). */
  retryDelayMs?: number;
  /**
   * Messages handled at once (1 unless told: one after the other, in stream order). More lets a handler that
   * commits in groups (`GroupCommit`) take every message that arrived meanwhile into one commit; the handler
   * then sees them start in stream order, and each is acknowledged when its own handling ends.
   */
  concurrency?: number;
}

/**
 * Consumes a stream with a durable consumer: a consumer that was down catches up from where it stopped.
 * A handler failure leaves the message unacknowledged, so it is delivered again, up to `maxDeliver` times
 * when that is set. The consumer's settings apply when it is created.
 */
export async function consumeDurably(
  nc: NatsConnection,
  stream: string,
  durable: string,
  handle: (subject: string, data: unknown, sequence: number) => Promise<void>,
  options: DurableOptions = {},
): Promise<DurableConsumer> {
  const jsm = await nc.jetstreamManager();
  const retryDelayMs = options.retryDelayMs ?? 1000;
  try {
    await jsm.consumers.info(stream, durable);
  } catch {
    await jsm.consumers.add(stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(30_000),
      max_deliver: options.maxDeliver ?? -1,
      ...(options.event ? { filter_subject: qualifiedSubject(options.event) } : {}),
    });
  }
  const consumer = await nc.jetstream().consumers.get(stream, durable);
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: Math.max(64, concurrency) });
  const handleOne = async (m: JsMsg): Promise<void> => {
    try {
      await inSpan(
        `${m.subject} process`,
        { kind: SpanKind.CONSUMER, parent: contextFromHeaders(m.headers), attributes: { 'messaging.system': 'nats' } },
        () => handle(m.subject, codec.decode(m.data), m.seq),
      );
      m.ack();
    } catch (error) {
      if (options.maxDeliver !== undefined && m.info.deliveryCount >= options.maxDeliver) {
        logger.error({ msg: 'event handling failed for the last time; it is given up', subject: m.subject, sequence: m.seq, deliveries: m.info.deliveryCount, err: (error as Error).name });
        m.term();
        return;
      }
      logger.warn({ subject: m.subject, err: (error as Error).name }, 'event handling failed; it will be redelivered');
      m.nak(retryDelayMs);
    }
  };
  const done = (async () => {
    const inFlight = new Set<Promise<void>>();
    for await (const m of messages) {
      const handling = handleOne(m).finally(() => inFlight.delete(handling));
      inFlight.add(handling);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  })();
  return {
    stop: async () => {
      messages.stop();
      await done;
    },
  };
}

/** Every event by its qualified subject, for the namespace it was made for (every consumed message looks one up). */
let bySubject: { namespace: string | undefined; events: Map<string, EventSubject> } | undefined;

/** The event subject without the namespace prefix. */
export function eventSubjectOf(qualified: string): EventSubject | undefined {
  const namespace = currentNamespace();
  if (bySubject?.namespace !== namespace || bySubject === undefined) {
    bySubject = { namespace, events: new Map((Object.keys(EVENTS) as EventSubject[]).map((e) => [qualifiedSubject(e), e])) };
  }
  return bySubject.events.get(qualified);
}
