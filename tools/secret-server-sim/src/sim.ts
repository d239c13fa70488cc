import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerFactory } from 'fastify';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { SimError } from './errors';
import { RestError, registerRestApi, restErrorOf, sendJson } from './rest-api';
import { EMPTY_SEED, loadDemoSeed, simSeedSchema, type SimSeed } from './seed';
import { SOAP_PATH, registerSoapApi, soapOperationOf, type SoapOperation } from './soap-api';
import { SoapFault, soapFaultResponse } from './soap';
import { SimState, type TrustAction } from './state';
import { escapeXml } from './xml';

export { EMPTY_SEED, DEMO_SEED_PATH, BUILTIN_TEMPLATES, loadDemoSeed, loadSeedFile, simSeedSchema, type SimSeed } from './seed';
export { SimState, type SimFault, type SimStats, type TrustView } from './state';
export { SOAP_OPERATIONS, SOAP_PATH, type SoapOperation } from './soap-api';
export { SS_NS, SOAP_ENVELOPE_NS } from './soap';

export const DEFAULT_BASE_PATH = '/SecretServer';
/** Secret Server's "Session Timeout for Webservices" default. */
export const DEFAULT_TOKEN_TTL_MS = 20 * 60 * 1000;

/** Structural subset of a pino logger, so callers can pass pino without the simulator owning one. */
export interface SimLogger {
  debug(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SecretServerSimOptions {
  /** Defaults to the demo seed; pass EMPTY_SEED to start with nothing. */
  seed?: SimSeed;
  tokenTtlMs?: number;
  basePath?: string;
  /** Serve HTTPS with this PEM key and certificate, to test clients against a private CA. */
  tls?: { key: string; cert: string };
  logger?: SimLogger;
}

export interface SecretServerSim {
  app: FastifyInstance;
  /** Resolves to the base URL without a trailing `/`, e.g. `http://127.0.0.1:8091/SecretServer`. */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
  state: SimState;
}

const faultSchema = z.object({
  status: z.number().int().min(100).max(599).optional(),
  count: z.number().int().positive().default(1),
  body: z.string().optional(),
  contentType: z.string().min(1).optional(),
  method: z.string().min(1).optional(),
  path: z.string().min(1).optional(),
  operation: z.string().min(1).optional(),
  delayMs: z.number().int().min(0).max(600_000).optional(),
  drop: z.boolean().optional(),
});

const resetSchema = z.object({ seed: z.unknown().optional(), empty: z.boolean().optional() });
const clockSchema = z.object({ advanceMs: z.number().int().nonnegative() });
const expireSchema = z.object({ includeRefresh: z.boolean().optional() });
const TRUST_ACTIONS: readonly TrustAction[] = ['approve', 'deny', 'revoke'];

function normaliseBasePath(basePath: string): string {
  const trimmed = basePath.replace(/\/+$/, '');
  return trimmed === '' ? '' : trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function param(params: unknown, name: string): string {
  const raw = typeof params === 'object' && params !== null ? (params as Record<string, unknown>)[name] : undefined;
  return typeof raw === 'string' ? raw : '';
}

function firstQuery(query: unknown, name: string): string | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const raw: unknown = (query as Record<string, unknown>)[name];
  const first: unknown = Array.isArray(raw) ? raw[0] : raw;
  return typeof first === 'string' && first !== '' ? first : undefined;
}

/** Waits, but gives up at once when the simulator closes, so a long "slow vault" delay never holds it open. */
function pause(ms: number, closing: AbortSignal): Promise<void> {
  if (closing.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      closing.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    closing.addEventListener('abort', done, { once: true });
  });
}

export function createSecretServerSim(options: SecretServerSimOptions = {}): SecretServerSim {
  const basePath = normaliseBasePath(options.basePath ?? DEFAULT_BASE_PATH);
  const state = new SimState(options.seed ?? loadDemoSeed(), options.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS);
  const logger = options.logger;
  const tls = options.tls;
  const closing = new AbortController();

  const serverFactory: FastifyServerFactory | undefined = tls
    ? (handler) => createHttpsServer({ key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' }, handler)
    : undefined;

  const app: FastifyInstance = Fastify({
    // Fastify's own request logging would print URLs; the hook below logs route patterns only.
    logger: false,
    requestIdHeader: false,
    forceCloseConnections: true,
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true },
    serverFactory,
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new RestError(400, { message: 'The request is invalid.' }), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    done(null, Object.fromEntries(new URLSearchParams(text)));
  });
  // SOAP bodies and anything else arrive as text; each route decides what it accepts.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    done(null, typeof body === 'string' ? body : body.toString('utf8'));
  });

  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof RestError) return sendJson(reply, error.status, error.body);
    if (error instanceof SimError) {
      const rest = restErrorOf(error);
      return sendJson(reply, rest.status, rest.body);
    }
    const status = typeof error === 'object' && error !== null && 'statusCode' in error ? Number(error.statusCode) : 500;
    if (status >= 400 && status < 500) return sendJson(reply, status, { message: error instanceof Error ? error.message : 'The request is invalid.' });
    logger?.error({ error: error instanceof Error ? error.name : typeof error }, 'secret server simulator failure');
    // A SOAP client only understands a Fault, even for the simulator's own failures.
    if (request.routeOptions.url?.toLowerCase().endsWith(SOAP_PATH.toLowerCase())) {
      return reply.code(500).type('text/xml; charset=utf-8').send(soapFaultResponse(new SoapFault('Server was unable to process request.', 'soap:Server')));
    }
    return sendJson(reply, 500, { message: 'An error has occurred.' });
  });
  app.setNotFoundHandler((_request, reply) => sendJson(reply, 404, { message: 'No HTTP resource was found that matches the request URI.' }));

  const operations = new WeakMap<FastifyRequest, SoapOperation>();
  app.addHook('onResponse', async (request, reply) => {
    const operation = operations.get(request);
    logger?.debug(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        ...(operation ? { operation } : {}),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'secret server simulator request',
    );
  });
  app.addHook('onClose', async () => {
    closing.abort();
  });

  const authorizeUrl = (request: FastifyRequest, requestId: string): string =>
    `${request.protocol}://${request.host}${basePath}/ApplicationAccess.aspx?request=${encodeURIComponent(requestId)}`;

  app.register(
    async (api) => {
      api.addHook('onRequest', async (request, reply) => {
        const path = request.url.split('?')[0] ?? '';
        const relative = path.toLowerCase().startsWith(basePath.toLowerCase()) ? path.slice(basePath.length + 1) : path;
        const fault = state.takeFault(request.method, relative, soapOperationOf(request.headers['soapaction']));
        if (!fault) return;
        if (fault.delayMs !== undefined) await pause(fault.delayMs, closing.signal);
        if (fault.drop) {
          reply.hijack();
          request.raw.socket.destroy();
          return;
        }
        if (fault.status === undefined && fault.delayMs !== undefined) return;
        reply.code(fault.status ?? 503);
        if (fault.contentType) reply.type(fault.contentType);
        return reply.send(fault.body ?? '');
      });

      api.addHook('preHandler', async (request) => {
        if (request.routeOptions.url?.includes('/api/v1/')) state.countRestCall();
      });

      registerSoapApi(api, { state, authorizeUrl, onOperation: (request, operation) => operations.set(request, operation) });
      registerRestApi(api, state);

      // The page an AuthorizeURL leads to; approving happens through the control API, as the end user would.
      api.get('/ApplicationAccess.aspx', async (request, reply) => {
        const trust = state.trustByRequest(firstQuery(request.query, 'request') ?? '');
        const body = trust
          ? `<p>${escapeXml(trust.apiUser, false)} asks to access the secrets of ${escapeXml(trust.user, false)}: ${trust.state}.</p>`
          : '<p>No such application access request.</p>';
        return reply
          .code(trust ? 200 : 404)
          .type('text/html; charset=utf-8')
          .send(`<!DOCTYPE html><html><head><title>Application Access</title></head><body>${body}</body></html>`);
      });
    },
    { prefix: basePath },
  );

  app.register(
    async (control) => {
      control.get('/stats', async (_request, reply) => sendJson(reply, 200, state.stats()));

      control.get('/trust', async (_request, reply) => sendJson(reply, 200, { trust: state.trustEntries() }));

      control.post('/trust/:user/:action', async (request: FastifyRequest, reply: FastifyReply) => {
        const action = TRUST_ACTIONS.find((a) => a === param(request.params, 'action'));
        if (!action) return sendJson(reply, 404, { error: 'action must be approve, deny or revoke' });
        const result = state.actOnTrust(param(request.params, 'user'), action, firstQuery(request.query, 'apiUser'));
        return result.ok ? sendJson(reply, 200, result.trust) : sendJson(reply, result.status, { error: result.error });
      });

      control.get('/secrets/:id', async (request, reply) => {
        const raw = param(request.params, 'id');
        const view = /^\d{1,9}$/.test(raw) ? state.secretControlView(Number(raw)) : undefined;
        return view ? sendJson(reply, 200, view) : sendJson(reply, 404, { error: 'unknown secret' });
      });

      control.post('/tokens/expire', async (request, reply) => {
        const parsed = expireSchema.safeParse(request.body ?? {});
        if (!parsed.success) return sendJson(reply, 400, { error: z.prettifyError(parsed.error) });
        return sendJson(reply, 200, { expired: state.expireAllTokens(parsed.data.includeRefresh === true) });
      });

      control.post('/faults', async (request, reply) => {
        const parsed = faultSchema.safeParse(request.body);
        if (!parsed.success) return sendJson(reply, 400, { error: z.prettifyError(parsed.error) });
        state.addFault(parsed.data);
        return sendJson(reply, 201, { pending: state.stats().faultsPending });
      });

      control.delete('/faults', async (_request, reply) => {
        state.clearFaults();
        return reply.code(204).send();
      });

      control.post('/clock', async (request, reply) => {
        const parsed = clockSchema.safeParse(request.body);
        if (!parsed.success) return sendJson(reply, 400, { error: z.prettifyError(parsed.error) });
        return sendJson(reply, 200, { now: new Date(state.advanceClock(parsed.data.advanceMs)).toISOString() });
      });

      control.post('/reset', async (request, reply) => {
        const parsed = resetSchema.safeParse(request.body ?? {});
        if (!parsed.success) return sendJson(reply, 400, { error: z.prettifyError(parsed.error) });
        if (parsed.data.empty) {
          state.reset(EMPTY_SEED);
        } else if (parsed.data.seed !== undefined) {
          const seed = simSeedSchema.safeParse(parsed.data.seed);
          if (!seed.success) return sendJson(reply, 400, { error: z.prettifyError(seed.error) });
          state.reset(seed.data);
        } else {
          state.reset();
        }
        return sendJson(reply, 200, { reset: true });
      });
    },
    { prefix: '/_sim' },
  );

  let closed: Promise<void> | undefined;
  return {
    app,
    state,
    async listen(port = 0, host = '127.0.0.1') {
      await app.listen({ port, host });
      const address = app.server.address() as AddressInfo;
      const wildcard = host === '0.0.0.0' || host === '::';
      const shownHost = wildcard ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
      return `${tls ? 'https' : 'http'}://${shownHost}:${address.port}${basePath}`;
    },
    close() {
      closing.abort();
      closed ??= app.close();
      return closed;
    },
  };
}
