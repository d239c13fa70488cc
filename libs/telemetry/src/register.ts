/**
 * Starts OpenTelemetry. Imported by the first line of every `main.ts`, before Nest, pg, ioredis, pino or
 * undici are loaded, so their instrumentations can patch them. Kept free of any other project import.
 *
 * Export is configured by the standard OTEL_* variables: spans go over OTLP/HTTP when
 * OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set. Without it, trace context is
 * still created and propagated, so logs keep their trace ids.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Span } from '@opentelemetry/api';

let sdk: NodeSDK | undefined;

/** Password Safe request ids in a path are bearer capabilities: no span may carry them. */
const CAPABILITY = /\/(Credentials|Requests(?:\/Release)?)\/\d+/gi;

export function redactUrl(url: string): string {
  return url.replace(CAPABILITY, '/$1/{id}');
}

/** Overwrites the URL attributes an HTTP span was started with, when they hold a capability. */
function scrubUrl(span: Span, pathOrUrl: string | undefined, origin = ''): void {
  if (!pathOrUrl || !CAPABILITY.test(pathOrUrl)) return;
  CAPABILITY.lastIndex = 0;
  const path = redactUrl(pathOrUrl);
  span.setAttribute('url.path', path.split('?')[0] ?? path);
  span.setAttribute('http.target', path);
  if (origin) span.setAttribute('url.full', `${origin}${path}`);
  if (origin) span.setAttribute('http.url', `${origin}${path}`);
}

export function startTelemetry(serviceName: string): void {
  if (sdk) return;
  const env = process.env;
  const exporting = Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
  const spanProcessors: SpanProcessor[] = exporting
    ? [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 500 })]
    : [];
  sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: env['OTEL_SERVICE_NAME'] ?? serviceName }),
    spanProcessors,
    // Metrics and logs leave through /metrics and stdout; only traces are exported over OTLP.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => /^\/(health|metrics)/.test(req.url ?? ''),
        requestHook: (span, req) => {
          if ('url' in req && typeof req.url === 'string') scrubUrl(span, req.url);
          else if ('path' in req && typeof req.path === 'string') scrubUrl(span, req.path);
        },
      }),
      new ExpressInstrumentation(),
      new NestInstrumentation(),
      new UndiciInstrumentation({ requestHook: (span, req) => scrubUrl(span, req.path, req.origin) }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
      new PinoInstrumentation(),
    ],
  });
  sdk.start();
}

/** Flushes pending spans; called on shutdown so the last request's trace is not lost. */
export async function stopTelemetry(): Promise<void> {
  await sdk?.shutdown().catch(() => undefined);
  sdk = undefined;
}
