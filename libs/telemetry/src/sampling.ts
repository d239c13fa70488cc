/**
 * Head sampling that still keeps every error and every slow request. Kept free of any other project import, like
 * register.ts, which loads it before the instrumented libraries.
 *
 * - A trace started here is sampled with probability `ratio` (by its trace id, so every service agrees); a request
 *   that arrives with a sampled parent is sampled, as OpenTelemetry's parent-based sampler does.
 * - Of a request that is not sampled, each process still records its local root span (the span that entered the
 *   process: an HTTP or NATS server span, a consumer span), and only that. When it ends, `KeepErrorsAndSlow` exports
 *   it if it failed (a 4xx or 5xx answer, an error status) or took `slowMs` or more, and drops it otherwise. So a
 *   failed or slow request keeps one span per hop where it failed or was slow, all in the one trace: the gateway's
 *   answer, and each service's part that failed or was slow, with its status and duration.
 */
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type Context, type Link, type SpanContext } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SamplingResult,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** Spans are recorded but not sampled: the trace flags say so downstream, and only `KeepErrorsAndSlow` may export them. */
class RecordOnly implements Sampler {
  shouldSample(): SamplingResult {
    return { decision: SamplingDecision.RECORD };
  }
  toString(): string {
    return 'RecordOnly';
  }
}

/** Sampled by the ratio, recorded otherwise. */
class RatioOrRecord implements Sampler {
  private readonly ratio: TraceIdRatioBasedSampler;

  constructor(ratio: number) {
    this.ratio = new TraceIdRatioBasedSampler(ratio);
  }

  shouldSample(context: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    const decision = this.ratio.shouldSample(context, traceId).decision;
    void name;
    void kind;
    void attributes;
    void links;
    return { decision: decision === SamplingDecision.RECORD_AND_SAMPLED ? decision : SamplingDecision.RECORD };
  }

  toString(): string {
    return `RatioOrRecord{${this.ratio.toString()}}`;
  }
}

/**
 * The parent-based ratio sampler of the module comment. Of a request that is not sampled, each process records its
 * local root alone (the HTTP or NATS server span, a consumer span), not the queries and calls under it: one span
 * per hop is what a failed or slow request keeps, at a fraction of what recording every span costs.
 */
export function headSampler(ratio: number): Sampler {
  return new ParentBasedSampler({ root: new RatioOrRecord(ratio), remoteParentNotSampled: new RecordOnly(), localParentNotSampled: new AlwaysOffSampler() });
}

const isSampled = (context: SpanContext) => (context.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;

/** The span as the exporter should see it: sampled, since it is kept. */
function asSampled(span: ReadableSpan): ReadableSpan {
  const context = { ...span.spanContext(), traceFlags: span.spanContext().traceFlags | TraceFlags.SAMPLED };
  return new Proxy(span, {
    get(target, property, receiver) {
      if (property === 'spanContext') return () => context;
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

const durationMs = (span: ReadableSpan) => span.duration[0] * 1000 + span.duration[1] / 1e6;

/** A request's status as the appliance sees it: a 4xx is a refusal worth looking at, though OpenTelemetry calls it no error. */
function failed(span: ReadableSpan): boolean {
  if (span.status.code === SpanStatusCode.ERROR) return true;
  const status = span.attributes['http.response.status_code'] ?? span.attributes['http.status_code'];
  return span.kind === SpanKind.SERVER && typeof status === 'number' && status >= 400;
}

export interface KeepOptions {
  /** A local root that took this long or longer is kept. */
  slowMs: number;
}

/**
 * Passes sampled spans on as they end, and of the recorded, unsampled ones keeps (passes on as sampled) those that
 * failed or were slow, dropping the others. Under `headSampler` such a span is always the local root of its request
 * in this process, the only span it records of it (the sampler records nothing under an unsampled local span), so
 * each is decided alone as it ends: nothing is held, looked up or remembered per request.
 */
export class KeepErrorsAndSlow implements SpanProcessor {
  constructor(
    private readonly next: SpanProcessor,
    private readonly options: KeepOptions,
  ) {}

  onStart(span: Span, context: Context): void {
    this.next.onStart(span, context);
  }

  onEnd(span: ReadableSpan): void {
    if (isSampled(span.spanContext())) return this.next.onEnd(span);
    if (failed(span) || durationMs(span) >= this.options.slowMs) this.next.onEnd(asSampled(span));
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}

/** Reads a number from the environment within bounds, or the default; anything else stops the start with its name. */
export function numberFromEnv(env: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${name} must be a number from ${min} to ${max}`);
  return value;
}
