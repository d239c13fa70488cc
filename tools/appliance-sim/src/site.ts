import { createSimServer, sendJson, type SimLogger } from '@openecm/sim-kit';
import { XML_DECLARATION, el, leaf, serializeXml, type XmlNode } from '@openecm/xml';
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** The namespaces of the appliance's reporting and command answers. */
export const REPORTING_NS = 'http://www.beyondtrust.com/sra/namespaces/API/reporting';
export const COMMAND_NS = 'https://www.beyondtrust.com/namespaces/API/command';

export interface SiteEvent {
  /** Unix seconds. */
  timestamp: number;
  type: string;
  performedByType: string;
  performedBy: string;
  destination?: string;
  data?: Record<string, string>;
}

export interface SiteSession {
  lsid: string;
  /** Unix seconds. */
  startTime: number;
  endTime: number | null;
  jumpGroup: { id: number; name: string };
  publicSite: { id: number; name: string };
  jumpoint: string;
  /** The endpoint (the customer's host name in the report). */
  hostname: string;
  /** The representative's user name. */
  username: string;
  events: SiteEvent[];
}

export interface ApplianceSiteOptions {
  clientId: string;
  clientSecret: string;
  logger?: SimLogger;
  /** Serve HTTPS with this PEM key and certificate, as a site with a private CA does. */
  tls?: { key: string; cert: string };
}

/**
 * The appliance's own API as a broker meets it: `POST /oauth2/token` (client credentials, HTTP Basic), the
 * reporting API's AccessSession report (`GET /api/reporting?generate_report=AccessSession&start_time=&duration=`)
 * of the sessions this simulator ran, and the Command API (`/api/command?action=check_health|get_api_info|
 * terminate_session`). Sessions are recorded by the flow (`runApplianceFlow` with a site) or directly.
 */
export class ApplianceSite {
  readonly sessions = new Map<string, SiteSession>();
  readonly terminated: string[] = [];
  /** Every Command API call, by action and the lsid it named, with whether it answered success or error. */
  readonly commandCalls: Array<{ action: string; lsid?: string; answer: 'success' | 'error' }> = [];
  /** Report calls and the start_time each asked from, for tests of a poller's resume point. */
  readonly reportCalls: number[] = [];
  private readonly tokens = new Set<string>();
  private readonly server;

  constructor(private readonly options: ApplianceSiteOptions) {
    this.server = createSimServer({
      basePath: '',
      logger: options.logger,
      tls: options.tls,
      requestLogMessage: 'appliance site request',
      invalidJson: () => Object.assign(new Error('invalid JSON'), { statusCode: 400 }),
    });
    this.routes();
  }

  listen(port?: number, host?: string): Promise<string> {
    return this.server.listen(port, host);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** A 32-hex-character session id, as the appliance makes them. */
  static newLsid(): string {
    return randomBytes(16).toString('hex');
  }

  startSession(session: Omit<SiteSession, 'events' | 'endTime'> & { events?: SiteEvent[] }): SiteSession {
    const s: SiteSession = { ...session, endTime: null, events: session.events ?? [] };
    if (!s.events.some((e) => e.type === 'Session Start')) {
      s.events.unshift({ timestamp: s.startTime, type: 'Session Start', performedByType: 'representative', performedBy: s.username, destination: s.hostname });
    }
    this.sessions.set(s.lsid, s);
    return s;
  }

  addEvent(lsid: string, event: SiteEvent): void {
    const s = this.sessions.get(lsid);
    if (!s) throw new Error(`no session ${lsid}`);
    s.events.push(event);
  }

  endSession(lsid: string, at: number): void {
    const s = this.sessions.get(lsid);
    if (!s) throw new Error(`no session ${lsid}`);
    s.events.push({ timestamp: at, type: 'Session End', performedByType: 'system', performedBy: 'system' });
    s.endTime = at;
  }

  /** The report's XML of the sessions that started at or after `start` (and within `duration` seconds, 0 for up to now). */
  report(start: number, duration: number): string {
    const until = duration > 0 ? start + duration : Number.POSITIVE_INFINITY;
    const sessions = [...this.sessions.values()].filter((s) => s.startTime >= start && s.startTime < until).sort((a, b) => a.startTime - b.startTime);
    const time = (name: string, t: number) => ({ ...leaf(name, new Date(t * 1000).toISOString()), attrs: { timestamp: String(t) } });
    const node = el(
      'session_list',
      sessions.map((s) =>
        el(
          'session',
          [
            leaf('session_type', 'support'),
            time('start_time', s.startTime),
            s.endTime !== null && time('end_time', s.endTime),
            s.endTime !== null && leaf('duration', duration8601(s.endTime - s.startTime)),
            { ...leaf('public_site', s.publicSite.name), attrs: { id: String(s.publicSite.id) } },
            leaf('jumpoint', s.jumpoint),
            { ...leaf('jump_group', s.jumpGroup.name), attrs: { id: String(s.jumpGroup.id), type: 'shared' } },
            el('customer_list', [el('customer', [leaf('hostname', s.hostname)], { gsnumber: '1' })]),
            el('rep_list', [el('representative', [leaf('username', s.username), leaf('display_name', s.username)], { gsnumber: '2', id: '1' })]),
            el(
              'session_details',
              s.events.map((e) =>
                el(
                  'event',
                  [
                    { ...leaf('performed_by', e.performedBy), attrs: { type: e.performedByType } },
                    e.destination !== undefined && { ...leaf('destination', e.destination), attrs: { type: 'customer' } },
                    e.data && Object.keys(e.data).length > 0 && el('data', Object.entries(e.data).map(([name, value]) => el('value', [], { name, value }))),
                  ],
                  { timestamp: String(e.timestamp), event_type: e.type },
                ),
              ),
            ),
          ],
          { lsid: s.lsid },
        ),
      ),
      { xmlns: REPORTING_NS },
    );
    return `${XML_DECLARATION}${serializeXml(node)}`;
  }

  private authorized(header: string | undefined): boolean {
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    return token !== undefined && this.tokens.has(token);
  }

  private routes(): void {
    const app = this.server.app;
    app.post('/oauth2/token', async (request, reply) => {
      const basic = request.headers.authorization?.startsWith('Basic ') ? Buffer.from(request.headers.authorization.slice(6), 'base64').toString('utf8') : '';
      const [id, secret] = basic.split(':').map((p) => decodeURIComponent(p ?? ''));
      const body = (request.body ?? {}) as Record<string, string>;
      const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
      if (body['grant_type'] !== 'client_credentials') return sendJson(reply, 400, { error: 'unsupported_grant_type' });
      if (!id || secret === undefined || !same(id, this.options.clientId) || !same(secret, this.options.clientSecret)) {
        return sendJson(reply, 401, { error: 'invalid_client' });
      }
      const token = randomBytes(24).toString('base64url');
      this.tokens.add(token);
      return sendJson(reply, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
    });

    app.get('/api/reporting', async (request, reply) => {
      if (!this.authorized(request.headers.authorization)) return reply.code(401).type('application/xml').send(`${XML_DECLARATION}<error>Unauthorized</error>`);
      const q = request.query as Record<string, string | undefined>;
      if (q['generate_report'] !== 'AccessSession') return reply.code(400).type('application/xml').send(`${XML_DECLARATION}<error>unknown report</error>`);
      const start = Number(q['start_time'] ?? 0);
      const duration = Number(q['duration'] ?? 0);
      if (!Number.isInteger(start) || !Number.isInteger(duration)) return reply.code(400).type('application/xml').send(`${XML_DECLARATION}<error>bad time</error>`);
      this.reportCalls.push(start);
      return reply.code(200).type('application/xml; charset=utf-8').send(this.report(start, duration));
    });

    const command = async (request: { headers: { authorization?: string | undefined }; query: unknown; body: unknown }, reply: import('fastify').FastifyReply) => {
      const xml = (node: XmlNode) => reply.code(200).type('application/xml; charset=utf-8').send(`${XML_DECLARATION}${serializeXml({ ...node, attrs: { ...node.attrs, xmlns: COMMAND_NS } })}`);
      if (!this.authorized(request.headers.authorization)) return reply.code(401).type('application/xml').send(`${XML_DECLARATION}<error>Unauthorized</error>`);
      const params = { ...(request.query as Record<string, string>), ...((request.body ?? {}) as Record<string, string>) };
      const answer = this.command(params);
      this.commandCalls.push({ action: params['action'] ?? '', ...(params['lsid'] !== undefined ? { lsid: params['lsid'] } : {}), answer: answer.name === 'error' ? 'error' : 'success' });
      return xml(answer);
    };
    app.get('/api/command', command);
    app.post('/api/command', command);
  }

  /** The Command API's answer to one call; ending a session records it. */
  private command(params: Record<string, string>): XmlNode {
    switch (params['action']) {
      case 'check_health':
        return el('appliance', [leaf('version', '24.3.1'), leaf('success', 'true'), leaf('failover_role', 'primary'), leaf('enabled_shared_ip', 'false')]);
      case 'get_api_info':
        return el('api_info', [
          leaf('api_version', '1.24.0'),
          leaf('timestamp', String(Math.floor(Date.now() / 1000))),
          el('permissions', [leaf('perm_command', 'full_access'), leaf('perm_reporting', 'true'), leaf('perm_ecm', 'true')]),
        ]);
      case 'terminate_session': {
        const lsid = params['lsid'] ?? '';
        if (!/^[0-9a-f]{32}$/i.test(lsid)) return leaf('error', 'lsid must be 32 hexadecimal characters');
        const s = this.sessions.get(lsid);
        if (!s || s.endTime !== null) return leaf('error', 'No active session with that lsid');
        this.terminated.push(lsid);
        this.endSession(lsid, Math.floor(Date.now() / 1000));
        return leaf('success', 'Successfully terminated');
      }
      default:
        return leaf('error', `unknown action ${params['action'] ?? ''}`.trim());
    }
  }
}

function duration8601(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h, m, s].map((n) => String(n).padStart(2, '0')).join(':');
}
