import { randomBytes } from 'node:crypto';
import { request } from 'undici';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  traceId: string;
  headers: Headers;
}

/**
 * A W3C traceparent with a fresh trace id, so the caller knows the id of the trace its request starts; sampled
 * (flags 01) unless `sampled` is false (00: the broker records a request's part only if it fails or is slow).
 */
export function newTraceparent(sampled = true): { traceparent: string; traceId: string } {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-${sampled ? '01' : '00'}` };
}

type Send = (url: string, method: string, headers: Record<string, string>, body?: string) => Promise<{ status: number; text: string; headers: Headers }>;

/** One HTTP call with the global fetch, which the end-to-end setup watches to check each answer against the OpenAPI document. */
const sendWithFetch: Send = async (url, method, headers, body) => {
  const res = await fetch(url, { method, headers, body });
  return { status: res.status, text: await res.text(), headers: res.headers };
};

/**
 * One HTTP call with undici's `request`, on the process's keep-alive pool: about a quarter of fetch's CPU per
 * call (no WHATWG streams and objects), for the bench, whose load runs on the broker's own cores.
 */
const sendWithRequest: Send = async (url, method, headers, body) => {
  const res = await request(url, { method, headers, body });
  const text = await res.body.text();
  let parsed: Headers | undefined;
  return {
    status: res.statusCode,
    text,
    // built when a caller reads them: the load reads none
    get headers() {
      parsed ??= toHeaders(res.headers);
      return parsed;
    },
  };
};

function toHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, one);
  }
  return headers;
}

export interface ApplianceClientOptions {
  /**
   * Whether each call starts a sampled trace of its own (a W3C traceparent), so a step can be found in the trace
   * viewer (the default); without, the gateway's sampling decides, as for an appliance that sends no traceparent.
   */
  startTraces?: boolean;
  /** Whether the traces the calls start are sampled (the default), or marked not sampled. */
  sampleTraces?: boolean;
  /** `request`: undici's request in place of fetch, for load (the bench); answers are not seen by a fetch watcher. */
  http?: 'fetch' | 'request';
}

/**
 * The appliance side of the OpenECM API: what a remote-access appliance does at a login screen.
 * Every call starts its own trace and reports the trace id, so a step can be found in the trace viewer.
 */
export class ApplianceClient {
  private token?: { value: string; expiresAt: number };

  constructor(
    private readonly baseUrl: string,
    private readonly clientId: string,
    private readonly clientSecret: string,
    private readonly options: ApplianceClientOptions = {},
  ) {
    this.send = options.http === 'request' ? sendWithRequest : sendWithFetch;
  }

  private readonly send: Send;

  async authenticate(): Promise<ApiResponse<{ access_token: string; expires_in: number; token_type: string }>> {
    const { traceparent, traceId } = newTraceparent();
    const res = await this.send(`${this.baseUrl}/oauth2/token`, 'POST', {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(this.clientId)}:${encodeURIComponent(this.clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      traceparent,
    }, 'grant_type=client_credentials');
    const body = JSON.parse(res.text) as { access_token: string; expires_in: number; token_type: string };
    if (res.status === 200) this.token = { value: body.access_token, expiresAt: Date.now() + (body.expires_in - 30) * 1000 };
    return { status: res.status, body, traceId, headers: res.headers };
  }

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    if (!this.token || this.token.expiresAt < Date.now()) {
      const auth = await this.authenticate();
      if (auth.status !== 200) throw new Error(`authentication failed with ${auth.status}`);
    }
    const { traceparent, traceId } = this.options.startTraces === false ? { traceparent: undefined, traceId: '' } : newTraceparent(this.options.sampleTraces !== false);
    const res = await this.send(
      `${this.baseUrl}${path}`,
      method,
      {
        authorization: `Bearer ${this.token?.value}`,
        ...(traceparent ? { traceparent } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body === undefined ? undefined : JSON.stringify(body),
    );
    return { status: res.status, body: (res.text ? JSON.parse(res.text) : undefined) as T, traceId, headers: res.headers };
  }

  /** `sessionId`: the appliance session the list is for, which session reporting links the list to. */
  listCredentials(user: string, endpoint: string, sessionId?: string) {
    return this.call<{ credentials: Array<{ id: string; name: string; username: string; domain: string | null; scope: string; vault: string }>; pending: unknown[] }>(
      'GET',
      `/api/v1/credentials?${new URLSearchParams({ user, endpoint, ...(sessionId ? { sessionId } : {}) })}`,
    );
  }

  inject(credentialId: string, user: string, endpoint: string, sessionId: string) {
    return this.call<{ leaseId: string; username: string; domain: string | null; secret: { type: string; value: string }; releaseAt: string }>(
      'POST',
      '/api/v1/injections',
      { credentialId, user, endpoint, sessionId },
    );
  }

  release(leaseId: string) {
    return this.call<{ leaseId: string; releasedAt: string; rotation: string }>('POST', `/api/v1/leases/${leaseId}/release`);
  }

  lease(leaseId: string) {
    return this.call<{ state: string; rotation: string; releasedBy: string | null; releasedAt: string | null; error: { code: string } | null }>(
      'GET',
      `/api/v1/leases/${leaseId}`,
    );
  }
}
