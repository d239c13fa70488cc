import { headers as natsHeaders, type MsgHdrs } from 'nats';
import { extractContext, injectContext } from '@openecm/telemetry';
import type { Context } from '@opentelemetry/api';

/** NATS headers carrying the active W3C trace context. */
export function traceHeaders(): MsgHdrs {
  const h = natsHeaders();
  injectContext({ get: (k) => h.get(k), set: (k, v) => h.set(k, v) });
  return h;
}

export function contextFromHeaders(h: MsgHdrs | undefined): Context {
  return extractContext(h ? { get: (k) => h.get(k), set: (k, v) => h.set(k, v) } : undefined);
}
