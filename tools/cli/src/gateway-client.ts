import type { Settings } from './settings';

/** A failed call as the gateway answered it (problem+json), or why no answer came. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    message: string,
    /** HTTP status; 0 when the gateway could not be reached. */
    readonly status: number,
    readonly code: string,
    readonly fields: ReadonlyArray<{ field: string; message: string }> = [],
  ) {
    super(message);
  }
}

interface Problem {
  detail?: string;
  title?: string;
  code?: string;
  errors?: Array<{ field: string; message: string }>;
}

export interface Transport {
  fetch: typeof fetch;
}

/** Diagnostics wait for every vault's Test Settings, which may take as long as a vault's own timeout. */
const DEFAULT_TIMEOUT_MS = 30_000;
/** An export streams as long as it has records to send. */
const STREAM_TIMEOUT_MS = 60 * 60_000;

/** The gateway's API as the CLI uses it: one access token per run, every error an ApiError. */
export class GatewayClient {
  private token?: string;

  constructor(
    private readonly settings: Settings,
    private readonly transport: Transport = { fetch },
  ) {}

  get url(): string {
    return this.settings.url;
  }

  get clientId(): string | undefined {
    return this.settings.account?.clientId;
  }

  /** GET without a token (health), answering the status and body whatever the status. */
  async probe(path: string): Promise<{ status: number; body: unknown }> {
    const res = await this.send(path, { method: 'GET' }, DEFAULT_TIMEOUT_MS);
    return { status: res.status, body: await readJson(res) };
  }

  async signIn(): Promise<void> {
    const account = this.settings.account;
    if (!account) {
      throw new ApiError(
        'no API account configured: set OPENECM_CLIENT_ID and OPENECM_CLIENT_SECRET, or write clientId and clientSecret in the config file',
        0,
        'NOT_CONFIGURED',
      );
    }
    const basic = Buffer.from(`${encodeURIComponent(account.clientId)}:${encodeURIComponent(account.clientSecret)}`).toString('base64');
    const res = await this.send(
      '/oauth2/token',
      { method: 'POST', headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' },
      DEFAULT_TIMEOUT_MS,
    );
    const body = await readJson(res);
    if (!res.ok) throw problemError(res.status, body, `the gateway refused the API account ${account.clientId}`);
    const token = (body as { access_token?: unknown }).access_token;
    if (typeof token !== 'string') throw new ApiError('the token endpoint answered without an access token', res.status, 'INTERNAL');
    this.token = token;
  }

  async call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
    if (!this.token) await this.signIn();
    const res = await this.send(
      path,
      {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
      timeoutMs,
    );
    const answer = await readJson(res);
    if (!res.ok) throw problemError(res.status, answer, `${method} ${path} failed`);
    return answer as T;
  }

  /** GET whose body is passed on as it arrives (an export), never held whole. */
  async stream(path: string, write: (text: string) => void, timeoutMs = STREAM_TIMEOUT_MS): Promise<void> {
    if (!this.token) await this.signIn();
    const res = await this.send(path, { method: 'GET', headers: { authorization: `Bearer ${this.token}` } }, timeoutMs);
    if (!res.ok) throw problemError(res.status, await readJson(res), `GET ${path} failed`);
    if (!res.body) return;
    const decoder = new TextDecoder();
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      const text = decoder.decode(chunk, { stream: true });
      if (text) write(text);
    }
    const rest = decoder.decode();
    if (rest) write(rest);
  }

  private async send(path: string, init: RequestInit, timeoutMs: number): Promise<Response> {
    try {
      return await this.transport.fetch(`${this.settings.url}${path}`, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const code = transportCode(error);
      const message =
        code === 'ETIMEDOUT' ? `the gateway at ${this.settings.url} did not answer within ${timeoutMs / 1000} s` : `cannot reach the gateway at ${this.settings.url} (${code})`;
      throw new ApiError(message, 0, code);
    }
  }
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function problemError(status: number, body: unknown, fallback: string): ApiError {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as Problem;
  return new ApiError(problem.detail ?? problem.title ?? `${fallback} (HTTP ${status})`, status, problem.code ?? `HTTP_${status}`, problem.errors ?? []);
}

/**
 * The Node/undici code behind a failed fetch (ECONNREFUSED, ENOTFOUND...), ETIMEDOUT for a timeout, else the
 * innermost cause's message (fetch's own, e.g. "bad port"; it never carries the request's headers).
 */
export function transportCode(error: unknown): string {
  let current: unknown = error;
  let innermost = 'network error';
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const { code, name, message, cause } = current as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
    if (name === 'TimeoutError') return 'ETIMEDOUT';
    if (typeof code === 'string') return code;
    if (typeof message === 'string' && message) innermost = message.slice(0, 120);
    current = cause;
  }
  return innermost;
}
