import type { IncomingMessage, ServerResponse } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Attributes, type Span } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import { redactUrl } from './redaction';
import { rootOf } from './sampling';
import { tracer } from './tracing';

/** The probes and the metrics scrape: no span, as a deployment polls them all day. */
const UNTRACED = /^\/(health|metrics)(\/|\?|$)/;

/** Each request's server span, for the route to name it once routing found it. */
const serverSpans = new WeakMap<IncomingMessage, Span>();

type Next = (error?: unknown) => void;

/** Set by `startTelemetry`: off with the SDK disabled, or with `http` in OTEL_NODE_DISABLED_INSTRUMENTATIONS. */
let enabled = false;

/** Turns the HTTP server spans of this process on or off (`startTelemetry` does, from the environment). */
export function enableHttpServerSpans(on: boolean): void {
  enabled = on;
}

/** A request with a body is read in events of its socket, which run outside the request's context unless bound. */
const hasBody = (req: IncomingMessage) => req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;

/**
 * The server span of each HTTP request, as a middleware ahead of every other: the caller's `traceparent` is
 * continued, the span is named by the route once it is known (`nameServerSpan`), and it ends when the answer has
 * gone out or the connection closed, with the status code (a 5xx an error status). The path and query carry no
 * capability or sign-in code (`redactUrl`). Of a request that is not sampled it is the `DeferredRoot` of sampling.ts:
 * kept only if the answer was a 4xx or 5xx or it was slow.
 *
 * OpenTelemetry's HTTP instrumentation made this span before: it also built some twenty attributes of every request,
 * sampled or not, from a parse of its URL, bound the request's and the answer's event emitters to its context (every
 * listener added to either was wrapped) and recorded metrics that this process never exports: about three points of
 * tracing's price on a list (`docs/adr/0027-unsampled-requests-record-nothing.md`). None is made with the SDK
 * disabled or `OTEL_NODE_DISABLED_INSTRUMENTATIONS` naming `http`.
 */
export function traceHttpRequests(): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  return (req, res, next) => {
    if (!enabled || UNTRACED.test(req.url ?? '')) return next();
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const method = req.method ?? 'GET';
    const url = redactUrl(req.url ?? '/');
    const query = url.indexOf('?');
    const attributes: Attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: method,
      [ATTR_URL_SCHEME]: (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
      [ATTR_URL_PATH]: query < 0 ? url : url.slice(0, query),
    };
    if (query >= 0) attributes[ATTR_URL_QUERY] = url.slice(query + 1);
    const agent = req.headers['user-agent'];
    if (agent) attributes[ATTR_USER_AGENT_ORIGINAL] = agent;
    const made = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes }, parent);
    const span = rootOf(made, method, SpanKind.SERVER, attributes, trace.getSpanContext(parent));
    serverSpans.set(req, span);
    res.once('close', () => {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    const active = trace.setSpan(parent, span);
    if (hasBody(req)) context.bind(active, req);
    context.with(active, next);
  };
}

/** Names a request's server span by its route (`GET /api/v1/leases/:leaseId`, never the path with its ids). */
export function nameServerSpan(req: IncomingMessage, route: string): void {
  const span = serverSpans.get(req);
  if (!span) return;
  span.updateName(`${req.method ?? 'GET'} ${route}`);
  span.setAttribute(ATTR_HTTP_ROUTE, route);
}
