import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { enableHttpServerSpans, nameServerSpan, traceHttpRequests } from './http-server';
import { FailedOrSlowKeeper, headSampler, keepFailedOrSlow } from './sampling';

const exporter = new InMemorySpanExporter();
const processor = new SimpleSpanProcessor(exporter);
let ratio = 1;
const provider = new BasicTracerProvider({
  sampler: { shouldSample: (...args) => headSampler(ratio).shouldSample(...args), toString: () => 'test' },
  spanProcessors: [processor],
});

/** What the handler saw of the trace context: in the middleware's next, and in the body's end event. */
const seen: Array<{ inNext?: string; inBody?: string }> = [];

/** Resolves when the server has seen the last request's connection close: its span has ended by then. */
let closed: Promise<void> = Promise.resolve();

/** A server as the gateway's: the tracing middleware first, then a "router" naming the route, then the answer. */
function handler(middleware: ReturnType<typeof traceHttpRequests>) {
  return (req: IncomingMessage, res: ServerResponse) => {
    middleware(req, res, () => {
      const view: { inNext?: string; inBody?: string } = { inNext: trace.getActiveSpan()?.spanContext().spanId };
      seen.push(view);
      const route = req.url?.startsWith('/api/v1/leases/') ? '/api/v1/leases/:leaseId' : req.url?.split('?')[0];
      if (route && route !== '/nowhere') nameServerSpan(req, route);
      const status = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('status') ?? 200);
      const answer = () => {
        res.statusCode = status;
        res.end('{}');
      };
      if (req.method === 'POST') {
        req.on('data', () => undefined);
        req.on('end', () => {
          view.inBody = trace.getActiveSpan()?.spanContext().spanId;
          answer();
        });
      } else answer();
    });
    // after the middleware's own close listener, which ends the span (the answer closes later, in another turn)
    closed = new Promise((resolve) => res.once('close', () => resolve()));
  };
}

describe('the HTTP server spans of the gateway', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    keepFailedOrSlow(new FailedOrSlowKeeper(processor, { slowMs: 500, resource: resourceFromAttributes({ 'service.name': 'appliance-gateway' }) }));
    enableHttpServerSpans(true);
    server = createServer(handler(traceHttpRequests()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    keepFailedOrSlow(undefined);
    enableHttpServerSpans(false);
    trace.disable();
    context.disable();
    propagation.disable();
  });

  beforeEach(() => {
    exporter.reset();
    seen.length = 0;
  });

  /** The spans exported once the server saw the answer's connection close (the span ends then). */
  async function spansAfter(call: () => Promise<Response>) {
    const answer = await call();
    await answer.text();
    await closed;
    return exporter.getFinishedSpans();
  }

  it('makes one server span per sampled request, named by its route, with its status, and continues the caller', async () => {
    ratio = 1;
    const spans = await spansAfter(
      () => fetch(`${base}/api/v1/leases/ls_123?status=404&user=bob`, { headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } }),
    );
    expect(spans).toHaveLength(1);
    const [span] = spans;
    expect(span?.name).toBe('GET /api/v1/leases/:leaseId');
    expect(span?.kind).toBe(SpanKind.SERVER);
    expect(span?.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(span?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/api/v1/leases/:leaseId',
      'url.path': '/api/v1/leases/ls_123',
      'url.query': 'status=404&user=bob',
      'http.response.status_code': 404,
    });
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    // the handler ran under it
    expect(seen[0]?.inNext).toBe(span?.spanContext().spanId);
  });

  it('keeps a request body read in socket events in the request context', async () => {
    ratio = 1;
    const spans = await spansAfter(() => fetch(`${base}/api/v1/injections?status=503`, { method: 'POST', body: JSON.stringify({ a: 1 }) }));
    expect(spans[0]?.name).toBe('POST /api/v1/injections');
    expect(spans[0]?.status.code).toBe(SpanStatusCode.ERROR);
    expect(seen[0]?.inBody).toBe(spans[0]?.spanContext().spanId);
  });

  it('of requests that were not sampled, keeps the refused and failed ones only, with the ids sent on', async () => {
    ratio = 0;
    await spansAfter(() => fetch(`${base}/api/v1/credentials?status=200`));
    expect(exporter.getFinishedSpans()).toEqual([]);
    const spans = await spansAfter(() => fetch(`${base}/api/v1/credentials?status=403`));
    expect(spans.map((s) => [s.name, s.attributes['http.response.status_code'], s.status.code])).toEqual([['GET /api/v1/credentials', 403, SpanStatusCode.UNSET]]);
    // the span kept is the one the handler's calls named as their parent
    expect(seen[1]?.inNext).toBe(spans[0]?.spanContext().spanId);
  });

  it('carries no capability or sign-in code in a path or query', async () => {
    ratio = 1;
    const spans = await spansAfter(() => fetch(`${base}/console/auth/callback?code=secret-code&state=s1`));
    expect(JSON.stringify(spans[0]?.attributes)).not.toContain('secret-code');
    expect(spans[0]?.attributes['url.query']).toBe('code={redacted}&state={redacted}');
  });

  it('makes no span for the probes and the metrics, nor any when turned off (the SDK disabled, or `http` named)', async () => {
    ratio = 1;
    await spansAfter(() => fetch(`${base}/health/ready`));
    await spansAfter(() => fetch(`${base}/metrics`));
    expect(exporter.getFinishedSpans()).toEqual([]);
    enableHttpServerSpans(false);
    try {
      await spansAfter(() => fetch(`${base}/api/v1/credentials`));
      expect(exporter.getFinishedSpans()).toEqual([]);
      expect(seen.at(-1)?.inNext).toBeUndefined();
    } finally {
      enableHttpServerSpans(true);
    }
  });
});
