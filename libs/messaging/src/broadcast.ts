import { Injectable } from '@nestjs/common';
import {
  BROADCASTS,
  parseOrThrow,
  type BroadcastReplyOf,
  type BroadcastRequestOf,
  type BroadcastSubject,
  type ParsedBroadcastRequestOf,
} from '@openecm/contracts';
import { SpanKind, inSpan } from '@openecm/telemetry';
import { JSONCodec, RequestStrategy, type NatsConnection, type Subscription } from 'nats';
import type { ReplyEnvelope } from './envelope';
import { processRequest } from './handles.decorator';
import { traceHeaders } from './headers';
import { qualifiedSubject } from './namespace';
import { NatsConnectionProvider } from './nats-connection';

const codec = JSONCodec<unknown>();

/** An instance's answer to a broadcast; `undefined` stays silent (the request was meant for another service). */
export type BroadcastHandler<B extends BroadcastSubject> = (request: ParsedBroadcastRequestOf<B>) => Promise<BroadcastReplyOf<B> | undefined>;

/**
 * Answers a broadcast subject on this instance: a plain subscription, outside any queue group, so every
 * instance of every service gets each message. Requests are validated and traced like any handler's.
 */
export function answerBroadcast<B extends BroadcastSubject>(nc: NatsConnection, subject: B, handle: BroadcastHandler<B>): Subscription {
  const definition = BROADCASTS[subject];
  return nc.subscribe(qualifiedSubject(subject), {
    callback: (error, msg) => {
      if (error || !msg.reply) return;
      let data: unknown;
      try {
        data = codec.decode(msg.data);
      } catch {
        data = undefined;
      }
      void processRequest(subject, definition.request, data, msg.headers, (request) => handle(request as ParsedBroadcastRequestOf<B>)).then(
        (envelope) => {
          if (envelope.ok && envelope.data === undefined) return;
          // the connection may be closing while an answer is on its way; the sender simply hears one reply less
          if (!nc.isClosed()) msg.respond(codec.encode(envelope));
        },
      );
    },
  });
}

export interface GatherOptions {
  /** Never waits longer than this in all. */
  maxWaitMs?: number;
  /** Stops once no further reply has come for this long after the last one. */
  quietMs?: number;
}

/**
 * Scatter-gather over NATS: sends a broadcast and collects the replies of every instance that answers within
 * the bounds. An instance that answers with an error is left out, as one that does not answer is.
 */
@Injectable()
export class Broadcaster {
  constructor(private readonly nats: NatsConnectionProvider) {}

  async gather<B extends BroadcastSubject>(subject: B, payload: BroadcastRequestOf<B>, options: GatherOptions = {}): Promise<Array<BroadcastReplyOf<B>>> {
    const definition = BROADCASTS[subject];
    const data = parseOrThrow(definition.request, payload, subject);
    const nc = await this.nats.get();
    return inSpan(
      `${subject} send`,
      { kind: SpanKind.CLIENT, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject } },
      async () => {
        const replies: Array<BroadcastReplyOf<B>> = [];
        const answers = await nc.requestMany(qualifiedSubject(subject), codec.encode(data), {
          strategy: RequestStrategy.JitterTimer,
          maxWait: options.maxWaitMs ?? 3000,
          jitter: options.quietMs ?? 400,
          headers: traceHeaders(),
        });
        try {
          for await (const answer of answers) {
            const envelope = codec.decode(answer.data) as ReplyEnvelope<unknown>;
            if (!envelope.ok) continue;
            const reply = definition.reply.safeParse(envelope.data);
            if (reply.success) replies.push(reply.data as BroadcastReplyOf<B>);
          }
        } catch (error) {
          // nobody subscribed at all: NATS answers "no responders" at once
          if ((error as { code?: string }).code !== '503') throw error;
        }
        return replies;
      },
    );
  }
}
