import { rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import type { SecretValue } from '@openecm/crypto';

/** The appliance connection as the client needs it; the secret stays a SecretValue until the token call. */
export interface ApplianceTarget {
  url: string;
  clientId: string;
  clientSecret: SecretValue;
  caBundle: string | null;
  timeoutMs: number;
  maxResponseBytes: number;
}

/** What failed, by step; the message holds no URL, token or secret, so it may be logged and stored. */
export class ApplianceCallError extends Error {
  constructor(
    readonly step: 'tls' | 'connect' | 'authentication' | 'report' | 'command',
    message: string,
  ) {
    super(`${step}: ${message}`);
    this.name = 'ApplianceCallError';
  }
}

const COMMAND_NS = 'https://www.beyondtrust.com/namespaces/API/command';
export { COMMAND_NS };

/**
 * The appliance's API with one API account (OAuth client credentials): the reporting API the poller reads, and
 * the Command API that ending a session uses. The access token is kept until shortly before it expires and asked
 * for again once when the appliance refuses it.
 */
export class ApplianceClient {
  private token?: { value: string; until: number };
  private readonly dispatcher: Dispatcher;

  constructor(private readonly target: ApplianceTarget) {
    this.dispatcher = new Agent({
      connect: { ...(target.caBundle ? { ca: [...rootCertificates, target.caBundle] } : {}), minVersion: 'TLSv1.2' },
      headersTimeout: target.timeoutMs,
      bodyTimeout: target.timeoutMs,
    });
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /** `GET /api/reporting?generate_report=AccessSession&start_time=<unix>&duration=0`: every session since then. */
  accessSessions(startTime: number): Promise<string> {
    return this.authorized('report', `/api/reporting?generate_report=AccessSession&start_time=${startTime}&duration=0`);
  }

  /** `GET /api/command?action=...` (check_health, get_api_info, terminate_session with lsid, ...), XML in COMMAND_NS. */
  command(action: string, params: Record<string, string> = {}): Promise<string> {
    const query = new URLSearchParams({ action, ...params });
    return this.authorized('command', `/api/command?${query.toString()}`);
  }

  private async authorized(step: 'report' | 'command', path: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken();
      const res = await this.call(step, 'GET', path, { authorization: `Bearer ${token}` });
      if (res.status === 401 && attempt === 0) {
        this.token = undefined;
        continue;
      }
      if (res.status !== 200) throw new ApplianceCallError(step, `the appliance answered ${res.status}`);
      return res.body;
    }
  }

  private async accessToken(): Promise<string> {
    if (this.token && this.token.until > Date.now()) return this.token.value;
    const basic = Buffer.from(`${encodeURIComponent(this.target.clientId)}:${encodeURIComponent(this.target.clientSecret.reveal())}`).toString('base64');
    const res = await this.call('authentication', 'POST', '/oauth2/token', {
      authorization: `Basic ${basic}`,
      'content-type': 'application/x-www-form-urlencoded',
    }, 'grant_type=client_credentials');
    if (res.status !== 200) throw new ApplianceCallError('authentication', `the token endpoint answered ${res.status}`);
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(res.body) as typeof parsed;
    } catch {
      throw new ApplianceCallError('authentication', 'the token endpoint answered no JSON');
    }
    if (typeof parsed.access_token !== 'string') throw new ApplianceCallError('authentication', 'the token endpoint answered no access token');
    const ttl = typeof parsed.expires_in === 'number' ? parsed.expires_in : 3600;
    this.token = { value: parsed.access_token, until: Date.now() + Math.max(0, ttl - 60) * 1000 };
    return this.token.value;
  }

  private async call(step: ApplianceCallError['step'], method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(new URL(path, this.target.url), {
        method,
        headers: { ...headers, connection: 'close' },
        ...(body !== undefined ? { body } : {}),
        dispatcher: this.dispatcher,
      });
    } catch (error) {
      const code = tlsCode(error) ?? (error as { code?: unknown }).code;
      const shown = typeof code === 'string' ? code : (error as Error).name;
      if (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
        throw new ApplianceCallError('tls', `the appliance's TLS certificate is not trusted (${shown})`);
      }
      throw new ApplianceCallError('connect', `the appliance could not be reached (${shown})`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > this.target.maxResponseBytes) {
        res.body.destroy();
        throw new ApplianceCallError(step, `the answer is larger than ${this.target.maxResponseBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    return { status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') };
  }
}

/** The TLS verification code along the error's cause chain (undici wraps the socket's error). */
function tlsCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) return code;
  }
  return undefined;
}
