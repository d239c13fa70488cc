import { rootCertificates } from 'node:tls';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { SecretServerError } from './secret-server.errors';

/** Structural subset of a pino / Nest logger. */
export interface SecretServerLogger {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface SecretServerHttpOptions {
  /** PEM bundle trusted in addition to the system roots, for a private CA. */
  caBundle?: string | undefined;
  /** Certificate verification can only be turned off by setting this to false explicitly. */
  rejectUnauthorized?: boolean;
  timeoutMs?: number;
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  logger?: SecretServerLogger | undefined;
  /** An answer larger than this is refused: a search of a whole vault stays far below it. */
  maxBodyBytes?: number;
}

export interface HttpCall {
  /** Fixed label for logs and messages, e.g. `SOAP GetSecret` or `GET api/v1/secrets/{id}`. */
  op: string;
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Extra statuses the caller handles itself even though they look retryable (a SOAP fault is a 500). */
  noRetry?: (status: number, text: string) => boolean;
}

export interface HttpAnswer {
  status: number;
  contentType: string;
  text: string;
  attempts: number;
}

const DEFAULTS = { timeoutMs: 30_000, attempts: 4, baseDelayMs: 500, maxDelayMs: 30_000, maxBodyBytes: 32 * 1024 * 1024 };

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

/**
 * One undici agent per connection: TLS 1.2 at least, the configured CA added to the system roots, a
 * timeout on every call, and retries with jittered backoff on transport errors, 5xx and 408 only. Any
 * other answer goes back to the caller to interpret.
 */
export class SecretServerHttp {
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxBodyBytes: number;
  private readonly logger: SecretServerLogger | undefined;

  constructor(options: SecretServerHttpOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
    this.attempts = Math.max(1, options.retry?.attempts ?? DEFAULTS.attempts);
    this.baseDelayMs = options.retry?.baseDelayMs ?? DEFAULTS.baseDelayMs;
    this.maxDelayMs = options.retry?.maxDelayMs ?? DEFAULTS.maxDelayMs;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULTS.maxBodyBytes;
    this.logger = options.logger;
    this.agent = new Agent({
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connect: {
        timeout: this.timeoutMs,
        minVersion: 'TLSv1.2',
        rejectUnauthorized: options.rejectUnauthorized !== false,
        // Added to the public roots rather than replacing them, so a later move to a public certificate
        // keeps working without a configuration change.
        ...(options.caBundle ? { ca: [...rootCertificates, options.caBundle] } : {}),
      },
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  async send(call: HttpCall): Promise<HttpAnswer> {
    for (let attempt = 1; ; attempt += 1) {
      const startedAt = Date.now();
      let answer: HttpAnswer;
      try {
        const res = await request(call.url, {
          method: call.method,
          headers: call.headers ?? {},
          ...(call.body === undefined ? {} : { body: call.body }),
          dispatcher: this.agent,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of res.body) {
          const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
          size += buffer.length;
          if (size > this.maxBodyBytes) {
            res.body.destroy();
            throw new SecretServerError('unexpected', `Secret Server answered ${call.op} with a body larger than allowed`, {
              status: res.statusCode,
              attempts: attempt,
            });
          }
          chunks.push(buffer);
        }
        const contentType = headerValue(res.headers['content-type']);
        answer = { status: res.statusCode, contentType, text: Buffer.concat(chunks).toString('utf8'), attempts: attempt };
      } catch (error) {
        if (error instanceof SecretServerError) throw error;
        const code = errorCode(error);
        if (isTlsFailure(error)) {
          throw new SecretServerError('tls', `TLS failure during ${call.op} (${code ?? 'unknown'})`, { transportCode: code, attempts: attempt });
        }
        if (attempt >= this.attempts) {
          throw new SecretServerError('connect', `Secret Server unreachable during ${call.op} after ${attempt} attempts (${code ?? 'transport error'})`, {
            transportCode: code,
            attempts: attempt,
          });
        }
        await this.backoff(call.op, attempt, { code: code ?? 'transport error' });
        continue;
      }
      this.logger?.debug({ op: call.op, status: answer.status, attempt, ms: Date.now() - startedAt }, 'secret server call');
      const retryable = (answer.status === 408 || answer.status >= 500) && !call.noRetry?.(answer.status, answer.text);
      if (retryable && attempt < this.attempts) {
        await this.backoff(call.op, attempt, { status: answer.status });
        continue;
      }
      if (retryable) {
        throw new SecretServerError('unavailable', `Secret Server answered ${answer.status} to ${call.op} after ${attempt} attempts`, {
          status: answer.status,
          attempts: attempt,
        });
      }
      return answer;
    }
  }

  private async backoff(op: string, attempt: number, reason: { status?: number; code?: string }): Promise<void> {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    // Half fixed, half random, so many brokers retrying together do not hit the vault in lockstep.
    const waitMs = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.logger?.warn({ op, attempt, ...reason, retryInMs: waitMs }, 'secret server call failed, retrying');
    await delay(waitMs);
  }
}

function headerValue(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

function errorChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && chain.length < 8) {
    chain.push(current);
    current = typeof current === 'object' && 'cause' in current ? current.cause : undefined;
  }
  return chain;
}

function errorCode(error: unknown): string | undefined {
  for (const link of errorChain(error)) {
    if (typeof link === 'object' && link !== null && 'code' in link && typeof link.code === 'string') return link.code;
    if (link instanceof Error && (link.name === 'TimeoutError' || link.name === 'AbortError')) return 'ETIMEDOUT';
  }
  return undefined;
}

function isTlsFailure(error: unknown): boolean {
  return errorChain(error).some((link) => {
    if (typeof link !== 'object' || link === null || !('code' in link) || typeof link.code !== 'string') return false;
    const code = link.code;
    return TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code.includes('CERT');
  });
}

const ASMX = /\/webservices\/[^/]+\.asmx\/?$/i;
export const SOAP_PATH = '/webservices/SSWebService.asmx';

/**
 * The two URLs a connection uses. The setting may be the SOAP endpoint as the plugin asks for it
 * (`.../webservices/SSWebservice.asmx`, any case) or the Secret Server base URL; query and fragment are
 * dropped because neither API takes them there.
 */
export function secretServerUrls(endpointUrl: string): { soapUrl: string; baseUrl: string } {
  const url = new URL(endpointUrl);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('the Secret Server URL must be http(s)');
  url.search = '';
  url.hash = '';
  const path = url.pathname;
  if (ASMX.test(path)) {
    const basePath = path.replace(ASMX, '').replace(/\/+$/, '');
    return { soapUrl: `${url.origin}${path.replace(/\/+$/, '')}`, baseUrl: `${url.origin}${basePath}` };
  }
  const basePath = path.replace(/\/+$/, '');
  return { soapUrl: `${url.origin}${basePath}${SOAP_PATH}`, baseUrl: `${url.origin}${basePath}` };
}
