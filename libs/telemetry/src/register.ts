/**
 * Starts OpenTelemetry. Imported by the first line of every `main.ts`, before Nest, pg, ioredis, pino or
 * undici are loaded, so their instrumentations can patch them. Kept free of any other project import.
 *
 * Export is configured by the standard OTEL_* variables: spans go over OTLP/HTTP when
 * OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set. Without it, trace context is
 * still created and propagated, so logs keep their trace ids.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { detectResources, envDetector, hostDetector, processDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOffSampler, BatchSpanProcessor, type Span as SdkSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { TraceFlags, context, trace, type Span } from '@opentelemetry/api';
import { SIGN_IN_CALLBACK, SIGN_IN_PARAMS, redactUrl } from './redaction';
import { INSTRUMENTATION_NAMES, disabledInstrumentations, type InstrumentationName } from './instrumentation-names';
import { enableHttpServerSpans } from './http-server';
import { FailedOrSlowKeeper, headSampler, keepFailedOrSlow, numberFromEnv } from './sampling';

/** The shipped sampling: one trace in ten, and every failed or slow request besides (sampling.ts). */
export const DEFAULT_TRACE_SAMPLE_RATIO = 0.1;
export const DEFAULT_TRACE_KEEP_SLOW_MS = 500;

let sdk: NodeSDK | undefined;

export { INSTRUMENTATION_NAMES, disabledInstrumentations, redactUrl };

/** Overwrites the URL attributes an HTTP span was started with, when they hold a capability or a sign-in code. */
function scrubUrl(span: Span, pathOrUrl: string | undefined, origin = ''): void {
  if (!pathOrUrl) return;
  const path = redactUrl(pathOrUrl);
  if (path === pathOrUrl) return;
  const query = path.indexOf('?');
  span.setAttribute('url.path', query < 0 ? path : path.slice(0, query));
  if (query >= 0) span.setAttribute('url.query', path.slice(query + 1));
  span.setAttribute('http.target', path);
  if (origin) span.setAttribute('url.full', `${origin}${path}`);
  if (origin) span.setAttribute('http.url', `${origin}${path}`);
}

/**
 * The callback's code and state in any attribute of a span about the callback, whichever instrumentation set it
 * (the Nest instrumentation puts the full URL on its request span): rewritten as the span starts and again just
 * before it ends, ahead of the exporter.
 */
export class SignInRedaction implements SpanProcessor {
  onStart(span: SdkSpan): void {
    this.scrub(span);
  }

  onEnding(span: SdkSpan): void {
    this.scrub(span);
  }

  onEnd(): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  private scrub(span: SdkSpan): void {
    const attributes = Object.entries(span.attributes);
    if (!attributes.some(([, v]) => typeof v === 'string' && v.includes(SIGN_IN_CALLBACK))) return;
    for (const [key, value] of attributes) {
      if (typeof value !== 'string') continue;
      const redacted = value.replace(SIGN_IN_PARAMS, '$1{redacted}');
      if (redacted !== value) span.setAttribute(key, redacted);
    }
  }
}

/** A span is active here and its trace is not sampled (a call with no span around it is a root of its own). */
function underUnsampledParent(): boolean {
  const parent = trace.getSpan(context.active())?.spanContext();
  return parent !== undefined && (parent.traceFlags & TraceFlags.SAMPLED) !== TraceFlags.SAMPLED;
}

/** OTEL_SDK_DISABLED as the SDK reads it: `true` in any case. */
export function telemetryDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true';
}

export function startTelemetry(serviceName: string): void {
  if (sdk) return;
  const env = process.env;
  // Disabled means nothing at all: an instrumentation patches its module as it is constructed, whether or not the
  // SDK then starts, so none is made (without this, every request still paid for the HTTP, pg and undici
  // patches with no span to show for it).
  if (telemetryDisabled(env)) return;
  const exporting = Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
  // OTEL_TRACES_SAMPLER, when an operator sets it, is the SDK's own choice (and keeps no failed request besides)
  const standardSampler = Boolean(env['OTEL_TRACES_SAMPLER']);
  const ratio = numberFromEnv(env, 'TRACE_SAMPLE_RATIO', DEFAULT_TRACE_SAMPLE_RATIO, 0, 1);
  const slowMs = numberFromEnv(env, 'TRACE_KEEP_SLOW_MS', DEFAULT_TRACE_KEEP_SLOW_MS, 0, 3_600_000);
  const disabled = disabledInstrumentations(env);
  enableHttpServerSpans(!disabled.has('http'));
  const batch = new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 500 });
  // the console's sign-in callback is served by the gateway alone: no other service's span can hold its code
  const redaction = serviceName === 'appliance-gateway' ? [new SignInRedaction()] : [];
  const spanProcessors: SpanProcessor[] = exporting ? [...redaction, batch] : [];
  // detected here as the SDK would (its default detectors), so that the spans kept after the fact carry it too
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: env['OTEL_SERVICE_NAME'] ?? serviceName }).merge(
    detectResources({ detectors: [envDetector, processDetector, hostDetector] }),
  );
  // the failed and slow requests that head sampling left out go straight to the exporter's processor
  keepFailedOrSlow(exporting && !standardSampler ? new FailedOrSlowKeeper(batch, { slowMs, resource }) : undefined);
  sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    spanProcessors,
    // without an exporter nothing is kept: the trace context is created and propagated, no span recorded
    ...(standardSampler ? {} : { sampler: exporting ? headSampler(ratio) : new AlwaysOffSampler() }),
    // Metrics and logs leave through /metrics and stdout; only traces are exported over OTLP.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: instrumentations(disabled),
  });
  sdk.start();
}

type QueryFn = (this: unknown, ...args: unknown[]) => unknown;

/**
 * pg's instrumentation, making no span for a query under a request that is not sampled: such a span would be
 * a non-recording one that nobody sees (the request keeps its local root alone), yet each cost the query its
 * attributes, a span, a context and a wrapped callback (a fifth of what tracing cost an injection, in three
 * services). The instrumentation has no hook for it, so its query patch is wrapped where it is made (pg is
 * patched when it is first required, after this is constructed). The e2e trace test shows a sampled request's
 * queries still traced.
 */
class SampledPgInstrumentation extends PgInstrumentation {
  constructor(config: ConstructorParameters<typeof PgInstrumentation>[0]) {
    super(config);
    const self = this as unknown as { _getClientQueryPatch: () => (original: QueryFn) => QueryFn };
    const patchOf = self._getClientQueryPatch.bind(this);
    self._getClientQueryPatch = () => (original) => {
      const traced = patchOf()(original);
      return function query(this: unknown, ...args: unknown[]) {
        return underUnsampledParent() ? original.apply(this, args) : traced.apply(this, args);
      };
    };
  }
}

type SendCommand = (this: unknown, ...args: unknown[]) => unknown;

/**
 * ioredis' instrumentation, making no span for a command under a request that is not sampled, for the same reason
 * as pg's above (a command span costs its statement text, attributes and wrapped callbacks, and would record
 * nothing). Its send-command patch is wrapped where it is made; BullMQ's commands go through it too.
 */
class SampledIORedisInstrumentation extends IORedisInstrumentation {
  constructor(config: ConstructorParameters<typeof IORedisInstrumentation>[0]) {
    super(config);
    const self = this as unknown as { _traceSendCommand: (original: SendCommand, moduleVersion?: string) => SendCommand };
    const traceOf = self._traceSendCommand.bind(this);
    self._traceSendCommand = (original, moduleVersion) => {
      const traced = traceOf(original, moduleVersion);
      return function sendCommand(this: unknown, ...args: unknown[]) {
        return underUnsampledParent() ? original.apply(this, args) : traced.apply(this, args);
      };
    };
  }
}

type Instrumentation = UndiciInstrumentation | IORedisInstrumentation | PgInstrumentation | PinoInstrumentation;

/** The instrumentations this process loads: each one that OTEL_NODE_DISABLED_INSTRUMENTATIONS does not name. */
function instrumentations(disabled: Set<InstrumentationName>): Instrumentation[] {
  // No HTTP or Express instrumentation: the gateway makes its HTTP server spans itself (http-server.ts), the one
  // span of a request's hop, named by its route; the Express instrumentation wrapped every middleware and router
  // layer of every request only to find that route. Every call OpenECM makes (vaults, the appliance, identity
  // providers) goes through undici, traced by its own instrumentation.
  const all: Record<Exclude<InstrumentationName, 'http'>, () => Instrumentation> = {
    // A vault call under a request that is not sampled would be a span nobody records (the request keeps its
    // local root alone): it is not made at all, and the vault gets no traceparent it has no use for.
    undici: () =>
      new UndiciInstrumentation({
        ignoreRequestHook: () => underUnsampledParent(),
        requestHook: (span, req) => scrubUrl(span, req.path, req.origin),
      }),
    ioredis: () => new SampledIORedisInstrumentation({ requireParentSpan: true }),
    // a span per query; none for taking a connection from the pool (kept warm, it is a few microseconds)
    pg: () => new SampledPgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false, ignoreConnectSpans: true }),
    pino: () => new PinoInstrumentation(),
  };
  // constructed only when wanted: an instrumentation patches its module as it is made
  return INSTRUMENTATION_NAMES.filter((name) => name !== 'http' && !disabled.has(name)).map((name) => all[name as Exclude<InstrumentationName, 'http'>]());
}

/** Flushes pending spans; called on shutdown so the last request's trace is not lost. */
export async function stopTelemetry(): Promise<void> {
  keepFailedOrSlow(undefined);
  enableHttpServerSpans(false);
  await sdk?.shutdown().catch(() => undefined);
  sdk = undefined;
}
