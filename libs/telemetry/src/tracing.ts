import { SpanKind, SpanStatusCode, TraceFlags, context, propagation, trace, type Context, type Span } from '@opentelemetry/api';
import { rootOf } from './sampling';

export const tracer = trace.getTracer('openecm');

type Carrier = { get(key: string): string | undefined | string[]; set(key: string, value: string): void };

/** Writes the active trace context into message headers (NATS headers, job options...). */
export function injectContext(carrier: Carrier): void {
  propagation.inject(context.active(), carrier, {
    set: (c, key, value) => c.set(key, value),
  });
}

export function extractContext(carrier: Carrier | undefined): Context {
  if (!carrier) return context.active();
  return propagation.extract(context.active(), carrier, {
    get: (c, key) => {
      const v = c.get(key);
      return Array.isArray(v) ? v[0] : v || undefined;
    },
    keys: () => [],
  });
}

/**
 * Runs `fn` inside a span; records failures without their messages' secrets (messages here are safe by contract).
 *
 * Under a span of this process whose trace is not sampled, no span is made: the sampler would make one that records
 * nothing (sampling.ts), and making it, its context and its end cost every call of the hot path for nothing. `fn`
 * runs in the parent's context with a span that records nothing, and what it sends on names the local root as its
 * parent. A span made here that is a local root of a request that is not sampled (its parent came from another
 * process, or there is none) is watched by a `DeferredRoot`, kept only if it fails or is slow.
 */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Record<string, string | number | boolean>; parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const local = trace.getSpan(parent)?.spanContext();
  if (local && !local.isRemote && (local.traceFlags & TraceFlags.SAMPLED) !== TraceFlags.SAMPLED) {
    const unrecorded = trace.wrapSpanContext(local);
    return options.parent ? context.with(parent, () => fn(unrecorded)) : fn(unrecorded);
  }
  const kind = options.kind ?? SpanKind.INTERNAL;
  const made = tracer.startSpan(name, { kind, attributes: options.attributes }, parent);
  const span = rootOf(made, name, kind, options.attributes, local);
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await fn(span);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      span.setStatus({ code: SpanStatusCode.ERROR, message: typeof code === 'string' ? code : 'error' });
      throw error;
    } finally {
      span.end();
    }
  });
}

export function currentTraceId(): string | undefined {
  return trace.getSpan(context.active())?.spanContext().traceId;
}

export { SpanKind };
