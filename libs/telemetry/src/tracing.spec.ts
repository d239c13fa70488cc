import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, context, trace, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { FailedOrSlowKeeper, headSampler, keepFailedOrSlow } from './sampling';
import { inSpan } from './tracing';

/** Every span that recorded something, sampled or not. */
class Recorded implements SpanProcessor {
  readonly spans: ReadableSpan[] = [];
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    this.spans.push(span);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

describe('inSpan', () => {
  const recorded = new Recorded();
  // one provider for the file: inSpan's tracer keeps the provider it first reached; the ratio changes per test
  let sampler = headSampler(0);
  const provider = new BasicTracerProvider({
    sampler: { shouldSample: (...args) => sampler.shouldSample(...args), toString: () => sampler.toString() },
    spanProcessors: [recorded],
  });
  const contextManager = new AsyncLocalStorageContextManager();

  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(provider);
    keepFailedOrSlow(new FailedOrSlowKeeper(recorded, { slowMs: 500, resource: resourceFromAttributes({ 'service.name': 'vault-adapters' }) }));
  });

  afterAll(() => {
    keepFailedOrSlow(undefined);
    trace.disable();
    context.disable();
  });

  /** The shipped head sampler at `ratio`; a tracer of the test's own. */
  function tracing(ratio: number) {
    sampler = headSampler(ratio);
    recorded.spans.length = 0;
    return provider.getTracer('test');
  }

  /** The span a request's call runs under, seen from inside `fn`. */
  async function callUnder(root: Span): Promise<string | undefined> {
    return context.with(trace.setSpan(context.active(), root), () =>
      inSpan('policy.credentials.list.v1 send', { kind: SpanKind.CLIENT }, async () => trace.getSpan(context.active())?.spanContext().spanId),
    );
  }

  it('makes no span under the local root of a request that is not sampled; the call carries the root on', async () => {
    const root = tracing(0).startSpan('GET /api/v1/credentials', { kind: SpanKind.SERVER });
    expect(root.isRecording()).toBe(false);
    const activeInside = await callUnder(root);
    root.end();
    expect(recorded.spans).toEqual([]);
    // what the call sends on (its traceparent) names the local root, so a kept failure's hops still join up
    expect(activeInside).toBe(root.spanContext().spanId);
  });

  it('records the call as a child of a sampled request', async () => {
    const root = tracing(1).startSpan('GET /api/v1/credentials', { kind: SpanKind.SERVER });
    const activeInside = await callUnder(root);
    root.end();
    expect(recorded.spans.map((s) => s.name)).toEqual(['policy.credentials.list.v1 send', 'GET /api/v1/credentials']);
    const child = recorded.spans[0];
    expect(child?.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(activeInside).toBe(child?.spanContext().spanId);
  });

  it('keeps the local root of a request that came in unsampled from another process only when it fails', async () => {
    tracing(1);
    const remote = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.NONE,
      isRemote: true,
    });
    const seen = await inSpan('vault.credentials.list.v1 process', { kind: SpanKind.SERVER, parent: remote }, async (span) => span.spanContext().spanId);
    expect(recorded.spans).toEqual([]);
    let failing: string | undefined;
    const refused = inSpan('vault.credentials.list.v1 process', { kind: SpanKind.SERVER, parent: remote }, async (span) => {
      failing = span.spanContext().spanId;
      throw Object.assign(new Error('vault down'), { code: 'VAULT_UNAVAILABLE' });
    });
    await expect(refused).rejects.toThrow('vault down');
    expect(seen).not.toBe(failing);
    expect(recorded.spans.map((s) => [s.name, s.spanContext().traceId, s.spanContext().spanId, s.parentSpanContext?.spanId, s.status])).toEqual([
      ['vault.credentials.list.v1 process', '0af7651916cd43dd8448eb211c80319c', failing, 'b7ad6b7169203331', { code: SpanStatusCode.ERROR, message: 'VAULT_UNAVAILABLE' }],
    ]);
  });
});
