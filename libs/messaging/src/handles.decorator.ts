import { Logger } from '@nestjs/common';
import { Ctx, MessagePattern, Payload, type NatsContext } from '@nestjs/microservices';
import { SpanStatusCode } from '@opentelemetry/api';
import {
  OpenEcmError,
  SUBJECTS,
  parseOrThrow,
  type ParsedRequestOf,
  type ReplyOf,
  type Subject,
} from '@openecm/contracts';
import type { MsgHdrs } from 'nats';
import type { z } from 'zod';
import { SpanKind, describeUnexpected, inSpan, natsHandleDuration, natsHandled } from '@openecm/telemetry';
import type { ReplyEnvelope } from './envelope';
import { contextFromHeaders } from './headers';
import { qualifiedSubject } from './namespace';
import { isDependencyOutage } from './outage';

const logger = new Logger('messaging');

type Handler<S extends Subject> = (request: ParsedRequestOf<S>) => Promise<ReplyOf<S>>;

/**
 * Answers one request as every handler does: continues the caller's trace from the NATS headers, validates
 * the request (unknown fields rejected), runs the handler and wraps its result or typed error in an envelope.
 * Unexpected failures are logged here and answered as INTERNAL, so no input can crash the service and no
 * stack or secret reaches the caller.
 */
export async function processRequest<T>(
  subject: string,
  schema: z.ZodType,
  data: unknown,
  headers: MsgHdrs | undefined,
  handle: (request: unknown) => Promise<T>,
): Promise<ReplyEnvelope<T>> {
  return inSpan(
    `${subject} process`,
    { kind: SpanKind.SERVER, parent: contextFromHeaders(headers), attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject } },
    async (span) => {
      const timer = natsHandleDuration.startTimer({ subject });
      try {
        const result = await handle(parseOrThrow(schema, data, subject));
        natsHandled.inc({ subject, outcome: 'ok' });
        return { ok: true, data: result };
      } catch (error) {
        if (error instanceof OpenEcmError) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
          natsHandled.inc({ subject, outcome: error.code });
          return { ok: false, error: error.toBody() };
        }
        if (isDependencyOutage(error)) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: 'SERVICE_UNAVAILABLE' });
          natsHandled.inc({ subject, outcome: 'SERVICE_UNAVAILABLE' });
          logger.warn({ subject, err: describeUnexpected(error) }, `a dependency is out of reach while handling ${subject}`);
          return { ok: false, error: { code: 'SERVICE_UNAVAILABLE', message: 'a dependency of the service is unavailable; try again shortly' } };
        }
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'INTERNAL' });
        natsHandled.inc({ subject, outcome: 'INTERNAL' });
        logger.error({ subject, err: describeUnexpected(error) }, `unexpected failure handling ${subject}`);
        return { ok: false, error: { code: 'INTERNAL', message: 'internal error' } };
      } finally {
        timer();
      }
    },
  );
}

/** Declares a NATS request handler for one contract subject, answered through `processRequest`. */
export function Handles<S extends Subject>(subject: S) {
  return (target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<Handler<S>>): void => {
    const original = descriptor.value as Handler<S>;
    const definition = SUBJECTS[subject];
    const wrapped = function (this: unknown, data: unknown, ctx?: NatsContext): Promise<ReplyEnvelope<ReplyOf<S>>> {
      return processRequest(subject, definition.request, data, ctx?.getHeaders?.(), (request) => original.call(this, request as ParsedRequestOf<S>));
    };
    descriptor.value = wrapped as unknown as Handler<S>;
    // Nest hands a handler its NATS context (and so the trace headers) only through parameter decorators
    Payload()(target, key, 0);
    Ctx()(target, key, 1);
    MessagePattern(qualifiedSubject(subject))(target, key, descriptor);
  };
}
