import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, context, propagation, trace, type Context, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { DeferredRoot, FailedOrSlowKeeper, headSampler, keepFailedOrSlow, numberFromEnv, rootOf } from './sampling';

const resource = resourceFromAttributes({ 'service.name': 'policy-approval' });

/** A tracer as the shipped sampling makes it, `ratio` as configured; the exporter sees what is sampled or kept. */
function tracing(ratio: number, slowMs = 500) {
  const exporter = new InMemorySpanExporter();
  const processor = new SimpleSpanProcessor(exporter);
  keepFailedOrSlow(new FailedOrSlowKeeper(processor, { slowMs, resource }));
  const provider = new BasicTracerProvider({ sampler: headSampler(ratio), spanProcessors: [processor] });
  const tracer = provider.getTracer('test');
  const exported = () => exporter.getFinishedSpans().map((s) => s.name);
  return { tracer, exported, finished: () => exporter.getFinishedSpans() };
}

type Tracer = ReturnType<BasicTracerProvider['getTracer']>;

/** The local root of a request in this process, as `inSpan` makes it: the SDK's span, watched when not sampled. */
function localRoot(tracer: Tracer, name: string, parent: Context = ROOT_CONTEXT): Span {
  const made = tracer.startSpan(name, { kind: SpanKind.SERVER }, parent);
  return rootOf(made, name, SpanKind.SERVER, { 'messaging.system': 'nats' }, trace.getSpanContext(parent));
}

/** A request as a service handles it: a server span entering the process and a child for the call it makes. */
function request(tracer: Tracer, options: { fail?: 'error' | 403; ms?: number; parent?: Context } = {}) {
  const root = localRoot(tracer, 'GET /api/v1/credentials', options.parent);
  const started = Date.now();
  const child = tracer.startSpan('policy.credentials.list.v1 send', { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, root));
  // an error answer marks the span that entered the process (the responders and the HTTP instrumentation do so)
  if (options.fail === 'error') root.setStatus({ code: SpanStatusCode.ERROR, message: 'VAULT_UNAVAILABLE' });
  if (options.fail === 403) root.setAttribute('http.response.status_code', 403);
  child.end(started + (options.ms ?? 2));
  root.end(started + (options.ms ?? 2));
  return { root, child };
}

afterEach(() => keepFailedOrSlow(undefined));

describe('head sampling that keeps every failed and slow request', () => {
  it('records and exports nothing of the fast, successful requests it did not sample', () => {
    const { tracer, exported } = tracing(0);
    for (let i = 0; i < 20; i++) {
      const { root, child } = request(tracer);
      expect(root.isRecording()).toBe(false);
      expect(child.isRecording()).toBe(false);
    }
    expect(exported()).toEqual([]);
  });

  it('exports the span of each hop of a request that failed, a refusal (4xx) included, and of one that was slow', () => {
    const { tracer, exported } = tracing(0, 500);
    request(tracer, { fail: 'error' });
    // one span per hop: the calls under it are not recorded when the request is not sampled
    expect(exported()).toEqual(['GET /api/v1/credentials']);
    request(tracer, { fail: 403 });
    expect(exported()).toHaveLength(2);
    request(tracer, { ms: 750 });
    expect(exported()).toHaveLength(3);
    request(tracer, { ms: 100 });
    expect(exported()).toHaveLength(3);
  });

  it('keeps a failed hop with the ids its trace context carried on, marked sampled, with its status, caller and attributes', () => {
    const { tracer, finished } = tracing(0, 500);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const caller = propagation.extract(ROOT_CONTEXT, { traceparent: '00-1af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' });
    for (let i = 0; i < 10; i++) request(tracer, { parent: caller });
    const { root } = request(tracer, { parent: caller, fail: 'error' });
    // what is sent on from under it names the hop (inSpan makes no span under it): the next service joins up under the kept one
    const carried: Record<string, string> = {};
    propagation.inject(trace.setSpan(ROOT_CONTEXT, root), carried);
    propagation.disable();
    const kept = finished();
    expect(kept.map((s) => s.spanContext().spanId)).toEqual([root.spanContext().spanId]);
    expect(carried['traceparent']).toBe(`00-1af7651916cd43dd8448eb211c80319c-${root.spanContext().spanId}-00`);
    expect(kept[0]?.spanContext().traceId).toBe('1af7651916cd43dd8448eb211c80319c');
    expect(kept[0]?.spanContext().traceFlags).toBe(TraceFlags.SAMPLED);
    expect(kept[0]?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(kept[0]?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'VAULT_UNAVAILABLE' });
    expect(kept[0]?.kind).toBe(SpanKind.SERVER);
    expect(kept[0]?.attributes).toEqual({ 'messaging.system': 'nats' });
    expect(kept[0]?.resource.attributes['service.name']).toBe('policy-approval');
    expect(kept[0]?.duration[0] * 1000 + kept[0]!.duration[1] / 1e6).toBeGreaterThanOrEqual(0);
  });

  it('samples about the ratio of traces, decided by the trace id, records them whole and exports them as sampled', () => {
    const { tracer, exported } = tracing(0.25);
    const roots: Span[] = [];
    for (let i = 0; i < 2000; i++) roots.push(request(tracer).root);
    const sampled = roots.filter((r) => r.spanContext().traceFlags & TraceFlags.SAMPLED);
    expect(sampled.length).toBeGreaterThan(400);
    expect(sampled.length).toBeLessThan(600);
    expect(exported()).toHaveLength(sampled.length * 2);
  });

  it("follows the caller's decision, so a sampled request is one trace across every service", () => {
    const { tracer, exported } = tracing(0);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const caller = propagation.extract(context.active(), { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    const { root } = request(tracer, { parent: caller });
    expect(root.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(exported()).toHaveLength(2);
    // a caller that did not sample: nothing recorded here, and nothing kept as it went well
    const unsampled = propagation.extract(context.active(), { traceparent: '00-1af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' });
    expect(request(tracer, { parent: unsampled }).root.isRecording()).toBe(false);
    expect(exported()).toHaveLength(2);
    request(tracer, { parent: unsampled, fail: 'error' });
    expect(exported()).toHaveLength(3);
    propagation.disable();
  });

  it('keeps nothing when no keeper is installed (no exporter, or the SDK sampler chosen)', () => {
    const { tracer, exported } = tracing(0);
    keepFailedOrSlow(undefined);
    const { root } = request(tracer, { fail: 'error' });
    expect(exported()).toEqual([]);
    expect(root).not.toBeInstanceOf(DeferredRoot);
  });

  it('names the variable of a setting out of bounds', () => {
    expect(() => numberFromEnv({ TRACE_SAMPLE_RATIO: '1.5' }, 'TRACE_SAMPLE_RATIO', 0.1, 0, 1)).toThrow('TRACE_SAMPLE_RATIO must be a number from 0 to 1');
    expect(() => numberFromEnv({ TRACE_SAMPLE_RATIO: 'half' }, 'TRACE_SAMPLE_RATIO', 0.1, 0, 1)).toThrow('TRACE_SAMPLE_RATIO');
    expect(numberFromEnv({ TRACE_SAMPLE_RATIO: '' }, 'TRACE_SAMPLE_RATIO', 0.1, 0, 1)).toBe(0.1);
    expect(numberFromEnv({ TRACE_SAMPLE_RATIO: '0.5' }, 'TRACE_SAMPLE_RATIO', 0.1, 0, 1)).toBe(0.5);
  });
});
