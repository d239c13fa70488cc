import { Controller, Module } from '@nestjs/common';
import { OpenEcmError, type ParsedRequestOf, type ReplyOf } from '@openecm/contracts';
import { startTestApp, testBus } from '../src';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Handles, MessagingModule } from '@openecm/messaging';

const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());

@Controller()
class EchoController {
  @Handles('policy.credentials.list.v1')
  async check(req: ParsedRequestOf<'policy.credentials.list.v1'>): Promise<ReplyOf<'policy.credentials.list.v1'>> {
    if (req.user === 'boom') throw new Error('secret-bearing message that must not travel');
    if (req.user === 'denied') throw new OpenEcmError('ACCESS_DENIED', 'no');
    // the handler's trace id, named where a list names a vault
    return { credentials: [], pending: [{ vault: trace.getActiveSpan()?.spanContext().traceId ?? 'none', reason: 'traced' }] };
  }
}

@Module({ imports: [MessagingModule], controllers: [EchoController] })
class EchoModule {}

describe('@Handles and Bus over real NATS', () => {
  it('continues the caller trace in the handler, and types errors', async () => {
    const { app } = await startTestApp('echo', EchoModule);
    const bus = testBus();
    try {
      const tracer = trace.getTracer('test');
      const traceId = await tracer.startActiveSpan('caller', async (span) => {
        const reply = await bus.request('policy.credentials.list.v1', { user: 'u', endpoint: 'e' });
        span.end();
        expect(reply.pending[0]?.vault).toBe(span.spanContext().traceId);
        return span.spanContext().traceId;
      });
      const names = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId).map((s) => s.name);
      expect(names).toEqual(expect.arrayContaining(['caller', 'policy.credentials.list.v1 send', 'policy.credentials.list.v1 process']));

      await expect(bus.request('policy.credentials.list.v1', { user: 'denied', endpoint: 'e' })).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
      const internal = await bus.request('policy.credentials.list.v1', { user: 'boom', endpoint: 'e' }).then(() => undefined, (e: OpenEcmError) => e);
      expect(internal).toMatchObject({ code: 'INTERNAL', message: 'internal error' });
    } finally {
      await bus.onApplicationShutdown();
      await app.close();
    }
  });
});
