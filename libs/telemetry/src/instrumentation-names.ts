/**
 * The instrumentations an operator may turn off by name. Kept free of any other import, so that what reads the
 * setting does not load the instrumentations themselves.
 */

/** The instrumentations OpenTelemetry's Node.js distribution names in OTEL_NODE_DISABLED_INSTRUMENTATIONS. */
/** `http` is the gateway's own HTTP server spans (http-server.ts); the others are OpenTelemetry's instrumentations. */
export const INSTRUMENTATION_NAMES = ['http', 'undici', 'ioredis', 'pg', 'pino'] as const;
export type InstrumentationName = (typeof INSTRUMENTATION_NAMES)[number];

/**
 * OTEL_NODE_DISABLED_INSTRUMENTATIONS as the OpenTelemetry Node.js distribution reads it: a comma-separated list of
 * the names above. A name it does not know stops the start, named, rather than leaving a typo traced.
 */
export function disabledInstrumentations(env: NodeJS.ProcessEnv): Set<InstrumentationName> {
  const names = (env['OTEL_NODE_DISABLED_INSTRUMENTATIONS'] ?? '').split(',').map((n) => n.trim().toLowerCase()).filter(Boolean);
  const unknown = names.filter((n) => !(INSTRUMENTATION_NAMES as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`OTEL_NODE_DISABLED_INSTRUMENTATIONS: unknown instrumentation ${unknown.join(', ')} (known: ${INSTRUMENTATION_NAMES.join(', ')})`);
  return new Set(names as InstrumentationName[]);
}
