import { randomBytes } from 'node:crypto';

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

export interface ApplianceClientOptions {
  /**
   * Whether each call starts a sampled trace of its own (a W3C traceparent), so a step can be found in the trace
   * viewer (the default); without, the gateway's sampling decides, as for an appliance that sends no traceparent.
   */
  startTraces?: boolean;
  /** Whether the traces the calls start are sampled (the default), or marked not sampled. */
  sampleTraces?: boolean;
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
  ) {}

  async authenticate(): Promise<ApiResponse<{ access_token: string; expires_in: number; token_type: string }>> {
    const { traceparent, traceId } = newTraceparent();
    const res = await fetch(`${this.baseUrl}/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(this.clientId)}:${encodeURIComponent(this.clientSecret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        traceparent,
      },
      body: 'grant_type=client_credentials',
    });
    const body = (await res.json()) as { access_token: string; expires_in: number; token_type: string };
    if (res.ok) this.token = { value: body.access_token, expiresAt: Date.now() + (body.expires_in - 30) * 1000 };
    return { status: res.status, body, traceId, headers: res.headers };
  }

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    if (!this.token || this.token.expiresAt < Date.now()) {
      const auth = await this.authenticate();
      if (auth.status !== 200) throw new Error(`authentication failed with ${auth.status}`);
    }
    const { traceparent, traceId } = this.options.startTraces === false ? { traceparent: undefined, traceId: '' } : newTraceparent(this.options.sampleTraces !== false);
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token?.value}`,
        ...(traceparent ? { traceparent } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, traceId, headers: res.headers };
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
