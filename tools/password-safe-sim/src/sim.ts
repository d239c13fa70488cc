import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { createSimServer, lateFaultSchema, errorStatus, normaliseBasePath, registerControlRoutes, registerVendorFaults, sendJson, type SimOptions, type Simulator } from '@openecm/sim-kit';
import { ApiError } from './errors';
import { generateOptionsSchema, generateSeed, summariseSeed } from './generate';
import { EMPTY_SEED, loadDemoSeed, simSeedSchema, type SimSeed } from './seed';
import { SimState } from './state';

export { EMPTY_SEED, DEMO_SEED_PATH, loadDemoSeed, loadSeedFile, simSeedSchema, type SimSeed } from './seed';
export { SimState, parsePsAuth, type RequestItem, type SimFault, type SimRequestView, type SimStats } from './state';
export type { SimLogger } from '@openecm/sim-kit';
export { generateSeed, summariseSeed, type GenerateOptions } from './generate';

export interface PasswordSafeSimOptions extends SimOptions<SimSeed> {
  idleTimeoutMs?: number;
}

/** `listen` resolves to the API base URL including basePath and a trailing `/`. */
export type PasswordSafeSim = Simulator<SimState>;

const faultSchema = lateFaultSchema(z.union([z.number(), z.string(), z.record(z.string(), z.unknown())]));

const backdateSchema = z.object({ ms: z.number().int().min(0).max(366 * 24 * 3600_000) });

const JSON_TYPE = 'application/json; charset=utf-8';

function send(reply: FastifyReply, status: number, body: number | string | object | undefined): FastifyReply {
  if (body === undefined) return reply.code(status).send();
  // Numeric vendor codes travel as bare text; plain messages as JSON strings, as the real API does.
  if (typeof body === 'number') return reply.code(status).type('text/plain; charset=utf-8').send(String(body));
  return sendJson(reply, status, body);
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

export const DEFAULT_BASE_PATH = '/BeyondTrust/api/public/v3';
export const DEFAULT_IDLE_TIMEOUT_MS = 20 * 60 * 1000;

export function createPasswordSafeSim(options: PasswordSafeSimOptions = {}): PasswordSafeSim {
  // Unlike Secret Server's, this base path is never empty: the root is `/`.
  const basePath = normaliseBasePath(options.basePath ?? DEFAULT_BASE_PATH) || '/';
  const state = new SimState(options.seed ?? loadDemoSeed(), options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
  const logger = options.logger;
  const server = createSimServer({
    basePath,
    tls: options.tls,
    invalidJson: () => new ApiError(400, 'The request body is not valid JSON'),
    logger,
    requestLogMessage: 'password safe simulator request',
  });
  const app: FastifyInstance = server.app;

  app.setErrorHandler((error: unknown, _request, reply) => {
    if (error instanceof ApiError) return send(reply, error.status, error.body);
    const status = errorStatus(error);
    if (status >= 400 && status < 500) {
      return send(reply, status, error instanceof Error ? error.message : 'Bad request');
    }
    logger?.error({ error: error instanceof Error ? error.name : typeof error }, 'password safe simulator failure');
    return send(reply, 500, 'An internal error occurred');
  });
  app.setNotFoundHandler((_request, reply) => send(reply, 404, 'Not found'));

  const session = (request: FastifyRequest) => state.authenticate(request.headers.cookie, request.headers.authorization);
  const requestNotFound = new ApiError(404, 'Request not found');

  app.register(
    async (api) => {
      registerVendorFaults(api, {
        basePath,
        closing: server.closing,
        take: (request, relativePath) => state.takeFault(request.method, relativePath),
        send: (fault, reply) => send(reply, fault.status, fault.body),
        replace(fault, reply) {
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
        },
        now: () => state.now(),
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
        return send(reply, 200, state.listManagedSystems(firstValues(request.query)));
      });

      api.get('/Platforms', async (request, reply) => {
        session(request);
        return send(reply, 200, state.listPlatforms());
      });

      api.get('/Workgroups', async (request, reply) => {
        session(request);
        return send(reply, 200, state.listWorkgroups());
      });

      api.get('/ManagedAccounts', async (request, reply) => {
        return send(reply, 200, state.listManagedAccounts(session(request), firstValues(request.query)));
      });

      api.post('/ManagedAccounts/:accountId/Credentials/Change', async (request, reply) => {
        const current = session(request);
        state.changePassword(current, idParam(request.params, 'accountId', new ApiError(404, 'Managed Account not found')), request.body);
        return send(reply, 204, undefined);
      });

      api.get('/Requests', async (request, reply) => send(reply, 200, state.listRequests(session(request), firstValues(request.query))));

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

      // the open requests; `?history=true` every request made, with how it ended and how often it rotated
      control.get('/requests', async (request, reply) =>
        send(reply, 200, { requests: (request.query as Record<string, string>)['history'] === 'true' ? state.requestHistory() : state.activeRequests() }),
      );

      control.post('/sessions/expire', async (_request, reply) => send(reply, 200, { expired: state.expireAllSessions() }));

      control.post('/requests/:requestId/backdate', async (request, reply) => {
        const requestId = idParam(request.params, 'requestId', new ApiError(404, { error: 'no open request' }));
        const parsed = backdateSchema.safeParse(request.body ?? {});
        if (!parsed.success) return send(reply, 400, { error: z.prettifyError(parsed.error) });
        if (!state.backdateRequest(requestId, parsed.data.ms)) return send(reply, 404, { error: 'no open request' });
        return send(reply, 200, { backdated: true });
      });

      control.post('/requests/:requestId/approve', async (request, reply) => {
        const requestId = idParam(request.params, 'requestId', new ApiError(404, { error: 'no pending request' }));
        if (!state.approve(requestId)) return send(reply, 404, { error: 'no pending request' });
        return send(reply, 200, { approved: true });
      });

      // a large inventory is generated here rather than posted: 100 000 systems make a seed of tens of megabytes
      control.post('/generate', async (request, reply) => {
        const parsed = generateOptionsSchema.safeParse(request.body ?? {});
        if (!parsed.success) return send(reply, 400, { error: z.prettifyError(parsed.error) });
        const seed = generateSeed(parsed.data);
        state.reset(seed);
        return send(reply, 200, summariseSeed(seed));
      });

      registerControlRoutes(control, { state, faultSchema, seedSchema: simSeedSchema, emptySeed: EMPTY_SEED });
    },
    { prefix: '/_sim' },
  );

  return {
    app,
    state,
    async listen(port, host) {
      return `${await server.listen(port, host)}/`;
    },
    close: () => server.close(),
  };
}
