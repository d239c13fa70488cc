import { Inject, Injectable, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { loadConfig, natsConfig } from '@openecm/config';
import {
  OpenEcmError,
  SUBJECTS,
  parseOrThrow,
  type ReplyOf,
  type RequestOf,
  type Subject,
} from '@openecm/contracts';
import { SpanKind, inSpan } from '@openecm/telemetry';
import { JSONCodec } from 'nats';
import type { ReplyEnvelope } from './envelope';
import { traceHeaders } from './headers';
import { qualifiedSubject } from './namespace';
import { NatsConnectionProvider } from './nats-connection';
import { NATS_SERVICE } from './nats-service';
import { RequestFailed, Requests } from './requests';

export interface RequestOptions {
  timeoutMs?: number;
}

const codec = JSONCodec<unknown>();

/**
 * A request and its answer as they travel: the packet of Nest's NATS transport, which every responder
 * (`DrainingNatsServer`) reads and writes, so instances of an earlier release answer this one's requests.
 */
export interface RequestPacket {
  pattern: string;
  data: unknown;
  id: string;
}
export interface ReplyPacket {
  id?: string;
  response?: unknown;
  err?: unknown;
  isDisposed?: boolean;
}

let nextId = 0;

/**
 * Typed request/reply over NATS: the contract decides the payload and reply types of every subject. Requests
 * go out on the app's one NATS connection with one inbox subscription for every answer (`Requests`), so a
 * request is one message each way, with no subscribe and unsubscribe of an inbox around it.
 */
@Injectable()
export class Bus implements OnApplicationShutdown {
  private readonly defaultTimeoutMs: number;
  private readonly connection: NatsConnectionProvider;
  /** A Bus made outside an app (a test, a tool) owns its connection and closes it. */
  private readonly ownsConnection: boolean;

  constructor(@Optional() @Inject(NATS_SERVICE) service?: string, @Optional() connection?: NatsConnectionProvider) {
    this.defaultTimeoutMs = loadConfig(natsConfig).NATS_REQUEST_TIMEOUT_MS;
    this.ownsConnection = !connection;
    this.connection = connection ?? new NatsConnectionProvider(service);
  }

  async request<S extends Subject>(subject: S, payload: RequestOf<S>, options: RequestOptions = {}): Promise<ReplyOf<S>> {
    const definition = SUBJECTS[subject];
    const data = parseOrThrow(definition.request, payload, subject);
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    return inSpan(
      `${subject} send`,
      { kind: SpanKind.CLIENT, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject } },
      async () => {
        const qualified = qualifiedSubject(subject);
        const packet: RequestPacket = { pattern: qualified, data, id: (nextId = (nextId + 1) % Number.MAX_SAFE_INTEGER).toString(36) };
        let reply: ReplyPacket;
        try {
          const nc = await this.connection.get();
          const msg = await Requests.of(nc, this.connection.options.inboxPrefix).request(qualified, codec.encode(packet), timeoutMs, traceHeaders());
          reply = codec.decode(msg.data) as ReplyPacket;
        } catch (error) {
          if (error instanceof RequestFailed && error.reason === 'timeout') {
            throw new OpenEcmError('UPSTREAM_TIMEOUT', `no answer to ${subject} within ${timeoutMs} ms`);
          }
          // the server says so at once (and the connection logs it): a deployment whose NATS user lacks the subject
          if (error instanceof RequestFailed && error.reason === 'permission') {
            throw new OpenEcmError('SERVICE_UNAVAILABLE', `NATS refused ${subject} to this service: its NATS user lacks the permission`);
          }
          throw new OpenEcmError('SERVICE_UNAVAILABLE', `${subject} could not be sent`);
        }
        const envelope = reply?.response as ReplyEnvelope<unknown> | undefined;
        // a responder that failed outside any handler (no handler for the subject) answers `err` only
        if (!envelope || typeof envelope !== 'object' || reply.err !== undefined) throw new OpenEcmError('SERVICE_UNAVAILABLE', `${subject} could not be answered`);
        if (!envelope.ok) throw OpenEcmError.fromBody(envelope.error);
        return definition.reply.parse(envelope.data) as ReplyOf<S>;
      },
    );
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.ownsConnection) await this.connection.onApplicationShutdown();
  }
}
