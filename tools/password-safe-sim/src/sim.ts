import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerFactory } from 'fastify';
import type { AddressInfo } from 'node:net';
import { createServer as createHttpsServer } from 'node:https';
import { z } from 'zod';
import { ApiError } from './errors';
import { EMPTY_SEED, loadDemoSeed, simSeedSchema, type SimSeed } from './seed';
import { SimState, type SimFault } from './state';

export { EMPTY_SEED, DEMO_SEED_PATH, loadDemoSeed, loadSeedFile, simSeedSchema, type SimSeed } from './seed';
export { SimState, parsePsAuth, type SimFault, type SimRequestView, type SimStats } from './state';

export const DEFAULT_BASE_PATH = '/BeyondTrust/api/public/v3';
export const DEFAULT_IDLE_TIMEOUT_MS = 20 * 60 * 1000;

/** Structural subset of a pino logger, so callers can pass pino without the simulator owning one. */
export interface SimLogger {
  debug(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface PasswordSafeSimOptions {
  /** Defaults to the demo seed; pass EMPTY_SEED to start with nothing. */
  seed?: SimSeed;
  idleTimeoutMs?: number;
  basePath?: string;
  /** Serve HTTPS with this PEM key and certificate, to test clients against a private CA. */
  tls?: { key: string; cert: string };
  logger?: SimLogger;
}

export interface PasswordSafeSim {
  app: FastifyInstance;
  /** Resolves to the API base URL including basePath and a trailing `/`. */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
  state: SimState;
}

const faultSchema = z.object({
  status: z.number().int().min(100).max(599).default(503),
  count: z.number().int().positive().default(1),
  body: z.union([z.number(), z.string(), z.record(z.string(), z.unknown())]).optional(),
  method: z.string().min(1).optional(),
  path: z.string().min(1).optional(),
  drop: z.boolean().optional(),
  afterHandler: z.boolean().optional(),
});

const resetSchema = z.object({ seed: z.unknown().optional(), empty: z.boolean().optional() });
const clockSchema = z.object({ advanceMs: z.number().int().nonnegative() });

const JSON_TYPE = 'application/json; charset=utf-8';

function send(reply: FastifyReply, status: number, body: number | string | object | undefined): FastifyReply {
  reply.code(status);
  if (body === undefined) return reply.send();
  // Numeric vendor codes travel as bare text; plain messages as JSON strings, as the real API does.
  if (typeof body === 'number') return reply.type('text/plain; charset=utf-8').send(String(body));
  return reply.type(JSON_TYPE).send(JSON.stringify(body));
}

function firstValues(query: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof query !== 'object' || query === null) return out;
  for (const [key, value] of Object.entries(query)) {
    const first: unknown = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') out[key] = first;
  }
  return out;
}

function idParam(params: unknown, name: string, notFound: ApiError): number {
  const raw = typeof params === 'object' && params !== null ? (params as Record<string, unknown>)[name] : undefined;
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw)) throw notFound;
  return Number(raw);
}

function basicAuth(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
}

function normaliseBasePath(basePath: string): string {
  const trimmed = basePath.replace(/\/+$/, '');
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

export function createPasswordSafeSim(options: PasswordSafeSimOptions = {}): PasswordSafeSim {
  const basePath = normaliseBasePath(options.basePath ?? DEFAULT_BASE_PATH);
  const state = new SimState(options.seed ?? loadDemoSeed(), options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
  const logger = options.logger;
  const tls = options.tls;

  const serverFactory: FastifyServerFactory | undefined = tls
    ? (handler) => createHttpsServer({ key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' }, handler)
    : undefined;

  const app: FastifyInstance = Fastify({
    // Fastify's own request logging would print URLs that carry request ids; the hook below logs route patterns.
    logger: false,
    requestIdHeader: false,
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true },
    serverFactory,
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    // Real clients send `PUT .../Checkin` with an empty JSON body; ASP.NET accepts that, so must the simulator.
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new ApiError(400, 'The request body is not valid JSON'), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    done(null, Object.fromEntries(new URLSearchParams(text)));
  });
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    done(null, text === '' ? undefined : text);
  });

  app.setErrorHandler((error: unknown, _request, reply) => {
    if (error instanceof ApiError) return send(reply, error.status, error.body);
    const status = typeof error === 'object' && error !== null && 'statusCode' in error ? Number(error.statusCode) : 500;
    if (status >= 400 && status < 500) {
      return send(reply, status, error instanceof Error ? error.message : 'Bad request');
    }
    logger?.error({ error: error instanceof Error ? error.name : typeof error }, 'password safe simulator failure');
    return send(reply, 500, 'An internal error occurred');
  });
  app.setNotFoundHandler((_request, reply) => send(reply, 404, 'Not found'));

  app.addHook('onResponse', async (request, reply) => {
    logger?.debug(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'password safe simulator request',
    );
  });

  const session = (request: FastifyRequest) => state.authenticate(request.headers.cookie, request.headers.authorization);
  const requestNotFound = new ApiError(404, 'Request not found');
  const lateFaults = new WeakMap<FastifyRequest, SimFault>();

  app.register(
    async (api) => {
      api.addHook('onRequest', async (request, reply) => {
        const path = request.url.split('?')[0] ?? '';
        const relative = path.toLowerCase().startsWith(basePath.toLowerCase()) ? path.slice(basePath.length + 1) : path;
        const fault = state.takeFault(request.method, relative);
        if (!fault) return;
        if (fault.drop) {
          reply.hijack();
          request.raw.socket.destroy();
          return;
        }
        if (fault.afterHandler) {
          lateFaults.set(request, fault);
          return;
        }
        return send(reply, fault.status, fault.body);
      });

      api.addHook('onSend', async (request, reply, payload) => {
        const fault = lateFaults.get(request);
        if (!fault) return payload;
        lateFaults.delete(request);
        reply.code(fault.status);
        if (fault.body === undefined) {
          reply.removeHeader('content-type');
          return '';
        }
        if (typeof fault.body === 'number') {
          reply.type('text/plain; charset=utf-8');
          return String(fault.body);
        }
        reply.type(JSON_TYPE);
        return JSON.stringify(fault.body);
      });

      api.post('/Auth/connect/token', async (request) => {
        const form = typeof request.body === 'object' && request.body !== null ? firstValues(request.body) : undefined;
        if (!form) throw new ApiError(400, { error: 'invalid_request' });
        return state.issueToken(form, basicAuth(request.headers.authorization));
      });

      // Matched case-insensitively, so both the API-key spelling SignAppin and the OAuth spelling SignAppIn land here.
      api.post('/Auth/SignAppin', async (request, reply) => {
        const authorization = request.headers.authorization ?? '';
        const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
        const result = bearer?.[1] ? state.signInWithBearer(bearer[1]) : state.signInWithPsAuth(authorization);
        logger?.debug({ mode: bearer ? 'oauth' : 'apiKey' }, 'password safe simulator sign-in');
        reply.header('set-cookie', [
          `ASP.NET_SessionId=${result.session.id}; path=/; secure; HttpOnly; SameSite=Lax`,
          `__RequestVerificationToken=${result.session.csrf}; path=/; secure; HttpOnly; SameSite=Strict`,
        ]);
        return send(reply, 200, result.body);
      });

      api.post('/Auth/Signout', async (request, reply) => {
        state.signOut(session(request));
        return send(reply, 200, undefined);
      });

      api.get('/ManagedSystems', async (request, reply) => {
        session(request);
        return send(reply, 200, state.listManagedSystems());
      });

      api.get('/ManagedAccounts', async (request, reply) => {
        return send(reply, 200, state.listManagedAccounts(session(request), firstValues(request.query)));
      });

      api.post('/ManagedAccounts/:accountId/Credentials/Change', async (request, reply) => {
        const current = session(request);
        state.changePassword(current, idParam(request.params, 'accountId', new ApiError(404, 'Managed Account not found')), request.body);
        return send(reply, 204, undefined);
      });

      api.post('/Requests', async (request, reply) => {
        const { requestId, reused } = state.createRequest(session(request), request.body);
        // Sources disagree on 200 vs 201; answering both (201 new, 200 reused) keeps clients honest.
        return reply.code(reused ? 200 : 201).type(JSON_TYPE).send(String(requestId));
      });

      api.get('/Credentials/:requestId', async (request, reply) => {
        const current = session(request);
        const secret = state.credential(current, idParam(request.params, 'requestId', requestNotFound), firstValues(request.query)['type']);
        return reply.code(200).type(JSON_TYPE).send(JSON.stringify(secret));
      });

      api.put('/Requests/:requestId/Checkin', async (request, reply) => {
        const current = session(request);
        state.checkin(current, idParam(request.params, 'requestId', requestNotFound), request.body);
        return send(reply, 204, undefined);
      });

      api.put('/Requests/Release/:requestId', async (request, reply) => {
        const current = session(request);
        state.checkin(current, idParam(request.params, 'requestId', requestNotFound), request.body);
        return send(reply, 204, undefined);
      });

      api.put('/Requests/:requestId/RotateOnCheckin', async (request, reply) => {
        const current = session(request);
        state.markRotateOnCheckin(current, idParam(request.params, 'requestId', requestNotFound));
        return send(reply, 204, undefined);
      });
    },
    { prefix: basePath },
  );

  app.register(
    async (control) => {
      control.get('/accounts/:accountId', async (request, reply) => {
        const accountId = idParam(request.params, 'accountId', new ApiError(404, { error: 'unknown account' }));
        if (!state.hasAccount(accountId)) return send(reply, 404, { error: 'unknown account' });
        return send(reply, 200, { accountId, password: state.passwordOf(accountId), rotations: state.rotationsOf(accountId) });
      });

      control.get('/stats', async (_request, reply) => send(reply, 200, { ...state.stats() }));

      control.get('/requests', async (_request, reply) => send(reply, 200, { requests: state.activeRequests() }));

      control.post('/sessions/expire', async (_request, reply) => send(reply, 200, { expired: state.expireAllSessions() }));

      control.post('/requests/:requestId/approve', async (request, reply) => {
        const requestId = idParam(request.params, 'requestId', new ApiError(404, { error: 'no pending request' }));
        if (!state.approve(requestId)) return send(reply, 404, { error: 'no pending request' });
        return send(reply, 200, { approved: true });
      });

      control.post('/faults', async (request, reply) => {
        const parsed = faultSchema.safeParse(request.body);
        if (!parsed.success) return send(reply, 400, { error: z.prettifyError(parsed.error) });
        state.addFault(parsed.data);
        return send(reply, 201, { pending: state.stats().faultsPending });
      });

      control.delete('/faults', async (_request, reply) => {
        state.clearFaults();
        return send(reply, 204, undefined);
      });

      control.post('/clock', async (request, reply) => {
        const parsed = clockSchema.safeParse(request.body);
        if (!parsed.success) return send(reply, 400, { error: z.prettifyError(parsed.error) });
        return send(reply, 200, { now: new Date(state.advanceClock(parsed.data.advanceMs)).toISOString() });
      });

      control.post('/reset', async (request, reply) => {
        const parsed = resetSchema.safeParse(request.body ?? {});
        if (!parsed.success) return send(reply, 400, { error: z.prettifyError(parsed.error) });
        if (parsed.data.empty) {
          state.reset(EMPTY_SEED);
        } else if (parsed.data.seed !== undefined) {
          const seed = simSeedSchema.safeParse(parsed.data.seed);
          if (!seed.success) return send(reply, 400, { error: z.prettifyError(seed.error) });
          state.reset(seed.data);
        } else {
          state.reset();
        }
        return send(reply, 200, { reset: true });
      });
    },
    { prefix: '/_sim' },
  );

  return {
    app,
    state,
    async listen(port = 0, host = '127.0.0.1') {
      await app.listen({ port, host });
      const address = app.server.address() as AddressInfo;
      const wildcard = host === '0.0.0.0' || host === '::';
      const shownHost = wildcard ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
      return `${tls ? 'https' : 'http'}://${shownHost}:${address.port}${basePath}/`;
    },
    async close() {
      await app.close();
    },
  };
}
