import { rootCertificates } from 'node:tls';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { VaultAddressRefusedError, type VaultAddressPolicy } from './address-policy';

/** Structural subset of a pino / Nest logger. */
export interface VaultHttpLogger {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface VaultRetryOptions {
  /** Total tries including the first. */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** What a vault client lets its caller set about the transport. */
export interface VaultTransportOptions {
  /** PEM bundle trusted in addition to the system roots, for a private CA. */
  caBundle?: string | undefined;
  /** Certificate verification can only be turned off by setting this to false explicitly. */
  rejectUnauthorized?: boolean;
  timeoutMs?: number;
  retry?: VaultRetryOptions;
  logger?: VaultHttpLogger | undefined;
  /**
   * The largest answer body taken, in bytes; 4 MiB unless given. A larger one is cut off as soon as it is
   * announced or streamed past the limit, never buffered whole, and fails the call as `too-large`.
   */
  maxBodyBytes?: number;
  /** Where the vault may be reached; every address is allowed without one (clients built outside a connection). */
  addressPolicy?: VaultAddressPolicy | undefined;
}

export interface VaultHttpOptions extends VaultTransportOptions {
  /** The vendor's name as messages show it, e.g. `Password Safe`; log lines use it in lower case. */
  vault: string;
}

/** A whole vault's search stays far below this; the vault-adapters setting VAULT_MAX_RESPONSE_BYTES has the same default. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface VaultHttpCall {
  /**
   * Fixed label such as `GET Credentials/{id}` or `SOAP GetSecret`: the only way a call is named in logs and
   * messages, because the URL, headers and body may carry ids, tokens and passwords.
   */
  op: string;
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Statuses the caller handles itself even though they look retryable (a SOAP fault is a 500). */
  noRetry?: (status: number, text: string) => boolean;
  /**
   * Not idempotent (a check-out that lends something): sent again only when the connection was refused, so the
   * vault cannot have seen it; a lost answer or a 5xx is handed back, never retried.
   */
  unsafe?: boolean;
}

export interface VaultHttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The first Content-Type header, '' when there is none. */
  contentType: string;
  text: string;
  /** How many tries were made, so a caller can tell a first answer from one after a lost response. */
  attempts: number;
  /** The status was retryable (5xx, 408) and the attempt budget ran out on it. */
  exhausted: boolean;
}

/** Why no answer came back: the vendor clients map each to a kind of their own. */
export type VaultTransportFailure = 'tls' | 'unreachable' | 'too-large' | 'refused-address';

export interface VaultTransportDetails {
  /** How many tries were made. */
  attempts: number;
  /** Node/undici code of the failure, e.g. ECONNREFUSED; absent for `too-large`. */
  transportCode?: string | undefined;
  /** HTTP status of an answer that was refused (`too-large`). */
  status?: number | undefined;
}

/**
 * No answer to hand back. The message is built from the vault's name, the call's fixed label, a count and a
 * Node/undici error code only, so it is safe to log.
 */
export class VaultTransportError extends Error {
  constructor(
    readonly failure: VaultTransportFailure,
    message: string,
    /** Fits the vendor errors' details, so a client can pass it on as it is. */
    readonly details: VaultTransportDetails,
  ) {
    super(message);
    this.name = 'VaultTransportError';
  }
}

const DEFAULTS = { timeoutMs: 30_000, attempts: 4, baseDelayMs: 500, maxDelayMs: 30_000 };

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

/**
 * The HTTP transport of every vault client: one undici agent per connection with TLS 1.2 at least, the
 * configured CA added to the system roots and a timeout on every call, and retries with capped, jittered
 * exponential backoff on transport errors, 5xx and 408 only. TLS failures are never retried: a certificate
 * does not fix itself. Any answer that arrives goes back to the caller to interpret.
 */
export class VaultHttp {
  private readonly vault: string;
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxBodyBytes: number;
  private readonly logger: VaultHttpLogger | undefined;

  constructor(options: VaultHttpOptions) {
    this.vault = options.vault;
    this.timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
    this.attempts = Math.max(1, options.retry?.attempts ?? DEFAULTS.attempts);
    this.baseDelayMs = options.retry?.baseDelayMs ?? DEFAULTS.baseDelayMs;
    this.maxDelayMs = options.retry?.maxDelayMs ?? DEFAULTS.maxDelayMs;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.logger = options.logger;
    const connect = {
      timeout: this.timeoutMs,
      minVersion: 'TLSv1.2',
      rejectUnauthorized: options.rejectUnauthorized !== false,
      // A private CA is added to the public roots rather than replacing them, so a later move to a public
      // certificate keeps working without a configuration change.
      ...(options.caBundle ? { ca: [...rootCertificates, options.caBundle] } : {}),
    } as const;
    this.agent = new Agent({
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connect: options.addressPolicy ? options.addressPolicy.connector(connect) : connect,
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** Answers whatever status arrived last; throws VaultTransportError only when no usable answer came. */
  async send(call: VaultHttpCall): Promise<VaultHttpAnswer> {
    for (let attempt = 1; ; attempt += 1) {
      const startedAt = Date.now();
      let answer: VaultHttpAnswer;
      try {
        answer = await this.once(call, attempt);
      } catch (error) {
        if (error instanceof VaultTransportError) throw error;
        const refused = errorChain(error).find((link) => link instanceof VaultAddressRefusedError);
        // never retried: the address does not change its kind
        if (refused) throw new VaultTransportError('refused-address', refused.message, { attempts: attempt, transportCode: refused.code });
        const code = transportErrorCode(error);
        if (isTlsFailure(error)) {
          throw new VaultTransportError('tls', `TLS failure during ${call.op} (${code ?? 'unknown'})`, { attempts: attempt, transportCode: code });
        }
        if (attempt >= this.attempts || (call.unsafe && code !== 'ECONNREFUSED')) {
          this.logger?.warn({ op: call.op, attempts: attempt, code: code ?? 'transport error' }, `${this.vault.toLowerCase()} unreachable`);
          throw new VaultTransportError(
            'unreachable',
            // The same words for a closed port, a filtered one and a host that does not answer, so the
            // settings test cannot be used to map which ports of an internal host are open; the code is logged.
            `${this.vault} unreachable during ${call.op} after ${attempt} attempts`,
            { attempts: attempt, transportCode: code },
          );
        }
        await this.backoff(call.op, attempt, { code: code ?? 'transport error' });
        continue;
      }
      this.logger?.debug({ op: call.op, status: answer.status, attempt, ms: Date.now() - startedAt }, `${this.vault.toLowerCase()} call`);
      const retryable = isRetryableStatus(answer.status) && !call.unsafe && !call.noRetry?.(answer.status, answer.text);
      if (!retryable) return answer;
      if (attempt >= this.attempts) return { ...answer, exhausted: true };
      await this.backoff(call.op, attempt, { status: answer.status });
    }
  }

  private async once(call: VaultHttpCall, attempt: number): Promise<VaultHttpAnswer> {
    // The whole call, answer and body, within the timeout: a plain timer cleared when the call ends costs a
    // fraction of what AbortSignal.timeout's weakly held timer does on every call.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new DOMException(`${call.op} timed out`, 'TimeoutError')), this.timeoutMs);
    try {
      return await this.exchangeOnce(call, attempt, deadline.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  private async exchangeOnce(call: VaultHttpCall, attempt: number, signal: AbortSignal): Promise<VaultHttpAnswer> {
    const res = await request(call.url, {
      method: call.method,
      headers: call.headers ?? {},
      ...(call.body === undefined ? {} : { body: call.body }),
      dispatcher: this.agent,
      signal,
    });
    // Never retried: the same request gets the same oversized answer.
    const tooLarge = (): VaultTransportError => {
      // The abort that destroying an unread body reports is this call's own doing, not an unhandled failure.
      res.body.on('error', () => undefined);
      res.body.destroy();
      return new VaultTransportError('too-large', `${this.vault} answered ${call.op} with more than ${this.maxBodyBytes} bytes, the limit for one answer`, {
        attempts: attempt,
        status: res.statusCode,
      });
    };
    const announced = Number(firstHeader(res.headers['content-length']));
    if (announced > this.maxBodyBytes) throw tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      size += buffer.length;
      if (size > this.maxBodyBytes) throw tooLarge();
      chunks.push(buffer);
    }
    return {
      status: res.statusCode,
      headers: res.headers,
      contentType: firstHeader(res.headers['content-type']) ?? '',
      text: decodeUtf8(Buffer.concat(chunks)),
      attempts: attempt,
      exhausted: false,
    };
  }

  private async backoff(op: string, attempt: number, reason: { status?: number; code?: string }): Promise<void> {
    const waitMs = retryDelayMs(attempt, this.baseDelayMs, this.maxDelayMs);
    this.logger?.warn({ op, attempt, ...reason, retryInMs: waitMs }, `${this.vault.toLowerCase()} call failed, retrying`);
    await delay(waitMs);
  }
}

/** 5xx and 408 may succeed when sent again; every other status is the server's considered answer. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status >= 500;
}

/**
 * Wait before try `attempt + 1`: the ceiling doubles from `baseDelayMs` up to `maxDelayMs`, and the wait is
 * half fixed, half random below it, so many brokers retrying together do not hit the vault in lockstep.
 */
export function retryDelayMs(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** The first Node/undici error code along the `cause` chain; a timeout or abort reads as ETIMEDOUT. */
export function transportErrorCode(error: unknown): string | undefined {
  for (const link of errorChain(error)) {
    if (typeof link !== 'object' || link === null) continue;
    if ('code' in link && typeof link.code === 'string') return link.code;
    // By name rather than instanceof Error: the DOMException of AbortSignal.timeout may come from another realm.
    if ('name' in link && (link.name === 'TimeoutError' || link.name === 'AbortError')) return 'ETIMEDOUT';
  }
  return undefined;
}

/** Certificate and handshake failures anywhere along the `cause` chain. */
export function isTlsFailure(error: unknown): boolean {
  return errorChain(error).some((link) => {
    if (typeof link !== 'object' || link === null || !('code' in link) || typeof link.code !== 'string') return false;
    const code = link.code;
    return TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code.includes('CERT');
  });
}

function errorChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  // bounded, so a cause cycle cannot loop
  while (current !== undefined && current !== null && chain.length < 8) {
    chain.push(current);
    current = typeof current === 'object' && 'cause' in current ? current.cause : undefined;
  }
  return chain;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** UTF-8 without a leading byte order mark, as undici's own `body.text()` decodes. */
function decodeUtf8(bytes: Buffer): string {
  const start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return bytes.toString('utf8', start);
}
