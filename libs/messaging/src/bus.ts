import { Inject, Injectable, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { ClientProxyFactory, NatsRecordBuilder, Transport, type ClientProxy } from '@nestjs/microservices';
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
import { TimeoutError, firstValueFrom, timeout } from 'rxjs';
import type { ReplyEnvelope } from './envelope';
import { traceHeaders } from './headers';
import { qualifiedSubject } from './namespace';
import { natsConnectionOptions } from './nats-options';
import { NATS_SERVICE } from './nats-service';

export interface RequestOptions {
  timeoutMs?: number;
}

/** Typed request/reply over NATS: the contract decides the payload and reply types of every subject. */
@Injectable()
export class Bus implements OnApplicationShutdown {
  private readonly client: ClientProxy;
  private readonly defaultTimeoutMs: number;

  constructor(@Optional() @Inject(NATS_SERVICE) service?: string) {
    const config = loadConfig(natsConfig);
    this.defaultTimeoutMs = config.NATS_REQUEST_TIMEOUT_MS;
    this.client = ClientProxyFactory.create({ transport: Transport.NATS, options: natsConnectionOptions(service, config) });
  }

  async request<S extends Subject>(subject: S, payload: RequestOf<S>, options: RequestOptions = {}): Promise<ReplyOf<S>> {
    const definition = SUBJECTS[subject];
    const data = parseOrThrow(definition.request, payload, subject);
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    return inSpan(
      `${subject} send`,
      { kind: SpanKind.CLIENT, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject } },
      async () => {
        const record = new NatsRecordBuilder(data).setHeaders(traceHeaders()).build();
        let envelope: ReplyEnvelope<unknown>;
        try {
          envelope = await firstValueFrom(
            this.client.send<ReplyEnvelope<unknown>>(qualifiedSubject(subject), record).pipe(timeout(timeoutMs)),
          );
        } catch (error) {
          if (error instanceof TimeoutError) {
            throw new OpenEcmError('UPSTREAM_TIMEOUT', `no answer to ${subject} within ${timeoutMs} ms`);
          }
          throw new OpenEcmError('SERVICE_UNAVAILABLE', `${subject} could not be sent`);
        }
        if (!envelope.ok) throw OpenEcmError.fromBody(envelope.error);
        return definition.reply.parse(envelope.data) as ReplyOf<S>;
      },
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
