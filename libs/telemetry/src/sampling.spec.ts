import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, context, propagation, trace, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { KeepErrorsAndSlow, headSampler, numberFromEnv } from './sampling';

/** A tracer whose exporter sees only what `KeepErrorsAndSlow` passes on; `ratio` as shipped or as configured. */
function tracing(ratio: number, slowMs = 500) {
  const exporter = new InMemorySpanExporter();
  const keeper = new KeepErrorsAndSlow(new SimpleSpanProcessor(exporter), { slowMs });
  const provider = new BasicTracerProvider({ sampler: headSampler(ratio), spanProcessors: [keeper] });
  const tracer = provider.getTracer('test');
  const exported = () => exporter.getFinishedSpans().map((s) => s.name);
  return { tracer, exported, finished: () => exporter.getFinishedSpans() };
}

/** A request as a service handles it: a server span entering the process and a child for the call it makes. */
function request(tracer: ReturnType<BasicTracerProvider['getTracer']>, options: { fail?: 'error' | 403; ms?: number; parent?: ReturnType<typeof trace.setSpan> } = {}) {
  const started = Date.now();
  const root = tracer.startSpan('GET /api/v1/credentials', { kind: SpanKind.SERVER, startTime: started }, options.parent ?? ROOT_CONTEXT);
  const child = tracer.startSpan('policy.credentials.list.v1 send', { kind: SpanKind.CLIENT, startTime: started }, trace.setSpan(ROOT_CONTEXT, root));
  // an error answer marks the span that entered the process (the responders and the HTTP instrumentation do so)
  if (options.fail === 'error') root.setStatus({ code: SpanStatusCode.ERROR, message: 'VAULT_UNAVAILABLE' });
  if (options.fail === 403) root.setAttribute('http.response.status_code', 403);
  child.end(started + (options.ms ?? 2));
  root.end(started + (options.ms ?? 2));
  return root;
}

describe('head sampling that keeps every failed and slow request', () => {
  it('exports none of the fast, successful requests it did not sample', () => {
    const { tracer, exported } = tracing(0);
    for (let i = 0; i < 20; i++) request(tracer);
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

  it('records nothing under the local root of a request it did not sample', () => {
    const { tracer } = tracing(0);
    const root = tracer.startSpan('policy.credentials.list.v1 process', { kind: SpanKind.SERVER });
    const query = tracer.startSpan('pg.query:SELECT', { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, root));
    expect(root.isRecording()).toBe(true);
    expect(query.isRecording()).toBe(false);
    // the call under it still carries the trace on
    expect(query.spanContext().traceId).toBe(root.spanContext().traceId);
    query.end();
    root.end();
  });

  it('hands a kept span on marked sampled, with its status, and only the failed one of many', () => {
    const { tracer, finished } = tracing(0, 500);
    for (let i = 0; i < 10; i++) request(tracer);
    const failing = request(tracer, { fail: 'error' });
    const kept = finished();
    expect(kept.map((s) => s.spanContext().spanId)).toEqual([failing.spanContext().spanId]);
    expect(kept[0]?.spanContext().traceFlags).toBe(TraceFlags.SAMPLED);
    expect(kept[0]?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'VAULT_UNAVAILABLE' });
  });

  it('samples about the ratio of traces, decided by the trace id, and exports them as sampled', () => {
    const { tracer, exported } = tracing(0.25);
    const roots: Span[] = [];
    for (let i = 0; i < 2000; i++) roots.push(request(tracer));
    const sampled = roots.filter((r) => r.spanContext().traceFlags & TraceFlags.SAMPLED).length;
    expect(sampled).toBeGreaterThan(400);
    expect(sampled).toBeLessThan(600);
    // a sampled request is recorded whole
    expect(exported()).toHaveLength(sampled * 2);
  });

  it("follows the caller's decision, so a sampled request is one trace across every service", () => {
    const { tracer, exported } = tracing(0);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const caller = propagation.extract(context.active(), { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    const root = request(tracer, { parent: caller });
    expect(root.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(exported()).toHaveLength(2);
    // a caller that did not sample: recorded here, and dropped as it went well
    const unsampled = propagation.extract(context.active(), { traceparent: '00-1af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' });
    request(tracer, { parent: unsampled });
    expect(exported()).toHaveLength(2);
    request(tracer, { parent: unsampled, fail: 'error' });
    expect(exported()).toHaveLength(3);
    propagation.disable();
  });

  it('names the variable of a setting out of bounds', () => {
    expect(() => numberFromEnv({ TRACE_SAMPLE_RATIO: '1.5' }, 'TRACE_SAMPLE_RATIO', 0.1, 0, 1)).toThrow('TRACE_SAMPLE_RATIO must be a number from 0 to 1');
    expect(() => numberFromEnv({ TRACE_SAMPLE_RATIO: 'half' }, 'TRACE_SAMPLE_RATIO', 0.1, 0, 1)).toThrow('TRACE_SAMPLE_RATIO');
    expect(numberFromEnv({ TRACE_SAMPLE_RATIO: '' }, 'TRACE_SAMPLE_RATIO', 0.1, 0, 1)).toBe(0.1);
    expect(numberFromEnv({ TRACE_SAMPLE_RATIO: '0.5' }, 'TRACE_SAMPLE_RATIO', 0.1, 0, 1)).toBe(0.5);
  });
});
