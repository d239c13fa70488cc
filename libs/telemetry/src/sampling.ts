/**
 * Head sampling that still keeps every error and every slow request. Kept free of any other project import, like
 * register.ts, which loads it before the instrumented libraries.
 *
 * - A trace started here is sampled with probability `ratio` (by its trace id, so every service agrees); a request
 *   that arrives with a sampled parent is sampled, as OpenTelemetry's parent-based sampler does.
 * - Of a request that is not sampled, each process still records its local root span (the span that entered the
 *   process: an HTTP or NATS server span, a consumer span), and only that. When it ends, `KeepErrorsAndSlow` exports
 *   it if it failed (a 4xx or 5xx answer, an error status) or took `slowMs` or more, and forgets it otherwise. So a
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
  /** Spans of one request held at most; more are not kept. */
  maxSpansPerTrace?: number;
  /** Requests held at once at most; a request beyond it is not recorded for keeping. */
  maxTraces?: number;
}

interface Held {
  spans: ReadableSpan[];
  failed: boolean;
  since: number;
}

/** A request part whose local root has not ended after this long is not waited for any more. */
const HELD_AT_MOST_MS = 30_000;
/** How long a request's decision is remembered for its spans that end after the local root. */
const DECIDED_FOR_MS = 10_000;

/**
 * Passes sampled spans on as they end, and holds the recorded, unsampled ones of each request until its local root
 * ends: kept (passed on as sampled) when the request failed or was slow, dropped otherwise.
 */
export class KeepErrorsAndSlow implements SpanProcessor {
  /** What this process recorded of each request it did not sample, by the span id of the request's local root. */
  private readonly held = new Map<string, Held>();
  private readonly rootOf = new Map<string, string>();
  private readonly decided = new Map<string, boolean>();
  private readonly decidedAt = new Map<string, number>();
  private readonly maxSpans: number;
  private readonly maxTraces: number;

  constructor(
    private readonly next: SpanProcessor,
    private readonly options: KeepOptions,
  ) {
    this.maxSpans = options.maxSpansPerTrace ?? 256;
    this.maxTraces = options.maxTraces ?? 10_000;
  }

  /** Requests whose spans are held now (for the tests and a debugger). */
  get holding(): number {
    return this.held.size;
  }

  onStart(span: Span, context: Context): void {
    this.next.onStart(span, context);
    const own = span.spanContext();
    if (isSampled(own)) return;
    // the span that entered this process is the local root of everything started under it here
    const parent = span.parentSpanContext;
    const root = !parent || parent.isRemote ? own.spanId : (this.rootOf.get(parent.spanId) ?? parent.spanId);
    if (this.rootOf.size >= this.maxTraces * 16) this.rootOf.clear();
    this.rootOf.set(own.spanId, root);
  }

  onEnd(span: ReadableSpan): void {
    const own = span.spanContext();
    if (isSampled(own)) return this.next.onEnd(span);
    const root = this.rootOf.get(own.spanId) ?? own.spanId;
    this.rootOf.delete(own.spanId);
    // a span that ends after its local root (a publish not waited for) follows the decision made for its request
    const decided = this.decided.get(root);
    if (decided !== undefined) {
      if (decided) this.next.onEnd(asSampled(span));
      return;
    }
    let held = this.held.get(root);
    if (!held) {
      this.forgetStale();
      if (this.held.size >= this.maxTraces) return;
      held = { spans: [], failed: false, since: Date.now() };
      this.held.set(root, held);
    }
    if (held.spans.length < this.maxSpans) held.spans.push(span);
    held.failed ||= failed(span);
    // the local root ends last of the spans its request waits for: the request's part here is complete
    if (root !== own.spanId) return;
    this.held.delete(root);
    const keep = held.failed || durationMs(span) >= this.options.slowMs;
    this.decide(root, keep);
    if (keep) for (const kept of held.spans) this.next.onEnd(asSampled(kept));
  }

  /** The oldest come first in the map: drops them while they are stale. */
  private forgetStale(): void {
    const before = Date.now() - HELD_AT_MOST_MS;
    for (const [root, held] of this.held) {
      if (held.since > before) return;
      this.held.delete(root);
    }
  }

  /** Remembers a request's decision for the spans that end after its local root, for a few seconds. */
  private decide(root: string, keep: boolean): void {
    const now = Date.now();
    for (const [id, at] of this.decidedAt) {
      if (at > now - DECIDED_FOR_MS && this.decidedAt.size < this.maxTraces * 4) break;
      this.decidedAt.delete(id);
      this.decided.delete(id);
    }
    this.decided.set(root, keep);
    this.decidedAt.set(root, now);
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }

  shutdown(): Promise<void> {
    this.held.clear();
    this.rootOf.clear();
    this.decided.clear();
    this.decidedAt.clear();
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
