/**
 * Head sampling that still keeps every error and every slow request. Kept free of any other project import, like
 * register.ts, which loads it before the instrumented libraries.
 *
 * - A trace started here is sampled with probability `ratio` (by its trace id, so every service agrees); a request
 *   that arrives with a sampled parent is sampled, one that arrives with an unsampled parent is not: OpenTelemetry's
 *   parent-based ratio sampler, as it ships.
 * - A request that is not sampled is recorded nowhere: each of its spans is the SDK's non-recording span, which costs
 *   its ids and its context and carries the trace on. Its local root in each process (the span that entered the
 *   process: an HTTP or NATS server span, a consumer span) is watched by a `DeferredRoot`, which notes its start,
 *   its status and its attributes, and at its end hands a span to the exporter only if it failed (an error status, a
 *   4xx or 5xx answer) or took `slowMs` or more. That span has the ids the trace context carried on, so a failed or
 *   slow request keeps one span per hop where it failed or was slow, all in its one trace and joined up: the
 *   gateway's answer, and each service's part that failed or was slow, with its status and duration.
 */
import {
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Attributes,
  type AttributeValue,
  type Exception,
  type HrTime,
  type Link,
  type Span,
  type SpanContext,
  type SpanStatus,
  type TimeInput,
} from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { ParentBasedSampler, TraceIdRatioBasedSampler, type ReadableSpan, type Sampler, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** The parent-based ratio sampler of the module comment: nothing of a request that is not sampled is recorded. */
export function headSampler(ratio: number): Sampler {
  return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
}

export const isSampled = (context: SpanContext): boolean => (context.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;

const NANOS_PER_SECOND = 1e9;

/** Now, as an OpenTelemetry high-resolution time (seconds and nanoseconds since the epoch). */
function now(): HrTime {
  const ms = performance.timeOrigin + performance.now();
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

function toHrTime(time: TimeInput | undefined): HrTime {
  if (time === undefined) return now();
  if (Array.isArray(time)) return time as HrTime;
  const ms = time instanceof Date ? time.getTime() : (time as number);
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

function difference(start: HrTime, end: HrTime): HrTime {
  let seconds = end[0] - start[0];
  let nanos = end[1] - start[1];
  if (nanos < 0) {
    seconds -= 1;
    nanos += NANOS_PER_SECOND;
  }
  return [seconds, nanos];
}

const durationMs = (duration: HrTime) => duration[0] * 1000 + duration[1] / 1e6;

/** A request's status as the appliance sees it: a 4xx is a refusal worth looking at, though OpenTelemetry calls it no error. */
function failed(kind: SpanKind, status: SpanStatus, attributes: Attributes): boolean {
  if (status.code === SpanStatusCode.ERROR) return true;
  const code = attributes['http.response.status_code'];
  return kind === SpanKind.SERVER && typeof code === 'number' && code >= 400;
}

export interface KeepOptions {
  /** A local root that took this long or longer is kept. */
  slowMs: number;
  /** The resource the process's tracer provider gives its spans. */
  resource: Resource;
}

/** What a kept span says about the request that was not sampled. */
export interface Unsampled {
  name: string;
  kind: SpanKind;
  /** The ids the trace context carried on from this hop: its children in other processes name this span. */
  spanContext: SpanContext;
  parent?: SpanContext;
  startTime: HrTime;
  endTime: HrTime;
  status: SpanStatus;
  attributes: Attributes;
}

const SCOPE = { name: 'openecm' };

/**
 * Hands the exporter's processor a span for each local root of an unsampled request that failed or was slow, and
 * nothing for the others. Installed by `startTelemetry` when spans are exported with the shipped sampling.
 */
export class FailedOrSlowKeeper {
  constructor(
    private readonly next: SpanProcessor,
    private readonly options: KeepOptions,
  ) {}

  /** Whether a root that failed or not, and ran from `startTime` to `endTime`, is kept. */
  keeps(failed: boolean, startTime: HrTime, endTime: HrTime): boolean {
    return failed || durationMs(difference(startTime, endTime)) >= this.options.slowMs;
  }

  /** Passes the span on, marked sampled, as it is kept. */
  export(root: Unsampled): void {
    const spanContext: SpanContext = { ...root.spanContext, traceFlags: root.spanContext.traceFlags | TraceFlags.SAMPLED, isRemote: false };
    const span: ReadableSpan = {
      name: root.name,
      kind: root.kind,
      spanContext: () => spanContext,
      ...(root.parent ? { parentSpanContext: root.parent } : {}),
      startTime: root.startTime,
      endTime: root.endTime,
      duration: difference(root.startTime, root.endTime),
      status: root.status,
      attributes: root.attributes,
      links: [],
      events: [],
      ended: true,
      resource: this.options.resource,
      instrumentationScope: SCOPE,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
    this.next.onEnd(span);
  }
}

let keeper: FailedOrSlowKeeper | undefined;

/** Installs (or, with undefined, removes) the process's keeper of failed and slow unsampled requests. */
export function keepFailedOrSlow(next: FailedOrSlowKeeper | undefined): void {
  keeper = next;
}

/** The keeper when failed and slow requests are kept, and the span is of a request that was not sampled. */
function keeperFor(span: Span): FailedOrSlowKeeper | undefined {
  return keeper && !span.isRecording() && !isSampled(span.spanContext()) ? keeper : undefined;
}

/**
 * The local root of a request that is not sampled, standing in for the SDK's non-recording span: the same ids (so
 * what it sends on names it), and a note of its start, status and attributes, so that at its end it is kept if it
 * failed or was slow. It records nothing else (no events, no links) and reports itself as not recording.
 */
export class DeferredRoot implements Span {
  private status: SpanStatus = { code: SpanStatusCode.UNSET };
  private attributes: Attributes;
  private ownAttributes = false;
  private readonly startTime: HrTime;
  private ended = false;

  constructor(
    private readonly inner: Span,
    private readonly keeper: FailedOrSlowKeeper,
    private name: string,
    private readonly kind: SpanKind,
    attributes: Attributes | undefined,
    private readonly parent: SpanContext | undefined,
  ) {
    this.attributes = attributes ?? {};
    this.startTime = now();
  }

  spanContext(): SpanContext {
    return this.inner.spanContext();
  }

  setAttribute(key: string, value: AttributeValue): this {
    if (!this.ownAttributes) {
      this.attributes = { ...this.attributes };
      this.ownAttributes = true;
    }
    this.attributes[key] = value;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const [key, value] of Object.entries(attributes)) if (value !== undefined) this.setAttribute(key, value);
    return this;
  }

  addEvent(): this {
    return this;
  }

  addLink(link: Link): this {
    void link;
    return this;
  }

  addLinks(links: Link[]): this {
    void links;
    return this;
  }

  setStatus(status: SpanStatus): this {
    this.status = status;
    return this;
  }

  updateName(name: string): this {
    this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    this.ended = true;
    const end = toHrTime(endTime);
    if (!this.keeper.keeps(failed(this.kind, this.status, this.attributes), this.startTime, end)) return;
    this.keeper.export({
      name: this.name,
      kind: this.kind,
      spanContext: this.inner.spanContext(),
      ...(this.parent ? { parent: this.parent } : {}),
      startTime: this.startTime,
      endTime: end,
      status: this.status,
      attributes: this.attributes,
    });
  }

  isRecording(): boolean {
    return false;
  }

  recordException(exception: Exception): void {
    void exception;
  }
}

/**
 * The span a local root runs under: `made` itself when it records (a sampled request) or when nothing is kept,
 * and otherwise a `DeferredRoot` around it. `parent` is the remote caller's span context, if any.
 */
export function rootOf(made: Span, name: string, kind: SpanKind, attributes: Attributes | undefined, parent: SpanContext | undefined): Span {
  const keeping = keeperFor(made);
  return keeping ? new DeferredRoot(made, keeping, name, kind, attributes, parent) : made;
}

/** Reads a number from the environment within bounds, or the default; anything else stops the start with its name. */
export function numberFromEnv(env: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${name} must be a number from ${min} to ${max}`);
  return value;
}
