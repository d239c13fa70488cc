/**
 * Whether an error means a dependency (PostgreSQL, Redis) is out of reach rather than a fault of the request:
 * such a failure answers SERVICE_UNAVAILABLE (503, worth retrying elsewhere or later), not INTERNAL.
 */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
/** SQLSTATE class 08 (connection exception), and the server shutting down or starting (57P01..57P03). */
const SQLSTATE = /^(08\d{3}|57P0[1-3])$/;
const MESSAGES = [
  /^Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /^Connection is closed\.?$/i,
  /Stream isn't writeable/i,
  /Reached the max retries per request limit/i,
];

export function isDependencyOutage(error: unknown, depth = 0): boolean {
  if (depth > 3 || typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; name?: unknown; message?: unknown; driverError?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || SQLSTATE.test(e.code))) return true;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  if (typeof e.message === 'string' && MESSAGES.some((m) => m.test(e.message as string))) return true;
  const nested = [e.driverError, e.cause, ...(Array.isArray(e.errors) ? e.errors : [])];
  return nested.some((inner) => isDependencyOutage(inner, depth + 1));
}
