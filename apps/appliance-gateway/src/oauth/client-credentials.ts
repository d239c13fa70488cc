import { SecretValue } from '@openecm/crypto';
import { createHash } from 'node:crypto';

export interface ClientCredentials {
  clientId: string;
  /** Revealed only where the stored hash is verified. */
  clientSecret: SecretValue;
}

export type BasicAuthorization =
  | { kind: 'absent' }
  | { kind: 'malformed' }
  | { kind: 'basic'; candidates: ClientCredentials[] };

const MAX_ID = 256;
const MAX_SECRET = 1024;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const BEARER_TOKEN = /^[A-Za-z0-9_-]{20,256}$/;

/** Access tokens are kept only as this digest, so a copy of the table grants nothing. */
export function hashAccessToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

export function parseBasicAuthorization(header: string | undefined): BasicAuthorization {
  if (header === undefined || header.trim() === '') return { kind: 'absent' };
  const match = /^Basic\s+(\S+)\s*$/i.exec(header);
  if (!match) return /^Basic(\s|$)/i.test(header) ? { kind: 'malformed' } : { kind: 'absent' };
  const encoded = match[1] as string;
  if (!BASE64.test(encoded)) return { kind: 'malformed' };
  const text = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return { kind: 'malformed' };
  const rawId = text.slice(0, colon);
  const rawSecret = text.slice(colon + 1);
  if (!rawSecret || rawId.length > MAX_ID || rawSecret.length > MAX_SECRET) return { kind: 'malformed' };
  const asSent = { clientId: rawId, clientSecret: rawSecret };
  const decoded = { clientId: formDecode(rawId), clientSecret: formDecode(rawSecret) };
  // RFC 6749 2.3.1 has clients form-encode both parts before Basic encoding, but many do not: either reading signs in.
  const same = decoded.clientId === asSent.clientId && decoded.clientSecret === asSent.clientSecret;
  const held = (reading: { clientId: string; clientSecret: string }): ClientCredentials => ({ clientId: reading.clientId, clientSecret: SecretValue.of(reading.clientSecret) });
  return { kind: 'basic', candidates: same ? [held(asSent)] : [held(decoded), held(asSent)] };
}

/** The bearer token of an Authorization header, or undefined when there is none or it cannot be one of ours. */
export function parseBearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const token = match?.[1];
  return token && BEARER_TOKEN.test(token) ? token : undefined;
}
