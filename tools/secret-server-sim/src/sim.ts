import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { createSimServer, errorStatus, normaliseBasePath, registerControlRoutes, registerFaultHook, sendJson, type SimOptions, type Simulator } from '@openecm/sim-kit';
import { SimError } from './errors';
import { generateOptionsSchema, generateSeed, summariseSeed } from './generate';
import { RestError, registerRestApi, restErrorOf } from './rest-api';
import { EMPTY_SEED, loadDemoSeed, simSeedSchema, type SimSeed } from './seed';
import { HOSTILE_ANSWERS, hostileAnswer } from './hostile';
import { SOAP_PATH, registerSoapApi, soapOperationOf, type SoapOperation } from './soap-api';
import { SoapFault, soapFaultResponse } from './soap';
import { SimState, type TrustAction } from './state';
import { escapeXml } from '@openecm/xml';

export { EMPTY_SEED, DEMO_SEED_PATH, BUILTIN_TEMPLATES, loadDemoSeed, loadSeedFile, simSeedSchema, type SimSeed } from './seed';
export { SimState, type SimFault, type SimStats, type TrustView } from './state';
export { SOAP_OPERATIONS, SOAP_PATH, type SoapOperation } from './soap-api';
export { HOSTILE_ANSWERS, OVERSIZED_BYTES, hostileAnswer, type HostileAnswer } from './hostile';
export { SS_NS, SOAP_ENVELOPE_NS } from './soap';
export type { SimLogger } from '@openecm/sim-kit';
export { EXTRA_TEMPLATES, generateSeed, summariseSeed, type GenerateOptions } from './generate';

export interface SecretServerSimOptions extends SimOptions<SimSeed> {
  tokenTtlMs?: number;
}

/** `listen` resolves to the base URL without a trailing `/`, e.g. `http://127.0.0.1:8091/SecretServer`. */
export type SecretServerSim = Simulator<SimState>;

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
  hostile: z.enum(HOSTILE_ANSWERS).optional(),
});

const expireSchema = z.object({ includeRefresh: z.boolean().optional() });
const TRUST_ACTIONS: readonly TrustAction[] = ['approve', 'deny', 'revoke'];

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

export const DEFAULT_BASE_PATH = '/SecretServer';
/** Secret Server's "Session Timeout for Webservices" default. */
export const DEFAULT_TOKEN_TTL_MS = 20 * 60 * 1000;

export function createSecretServerSim(options: SecretServerSimOptions = {}): SecretServerSim {
  const basePath = normaliseBasePath(options.basePath ?? DEFAULT_BASE_PATH);
  const state = new SimState(options.seed ?? loadDemoSeed(), options.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS);
  const logger = options.logger;
  const operations = new WeakMap<FastifyRequest, SoapOperation>();
  const server = createSimServer({
    basePath,
    tls: options.tls,
    invalidJson: () => new RestError(400, { message: 'The request is invalid.' }),
    keepEmptyText: true,
    logger,
    requestLogMessage: 'secret server simulator request',
    requestLogDetails: (request) => {
      const operation = operations.get(request);
      return operation ? { operation } : {};
    },
  });
  const app: FastifyInstance = server.app;

  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof RestError) return sendJson(reply, error.status, error.body);
    if (error instanceof SimError) {
      const rest = restErrorOf(error);
      return sendJson(reply, rest.status, rest.body);
    }
    const status = errorStatus(error);
    if (status >= 400 && status < 500) return sendJson(reply, status, { message: error instanceof Error ? error.message : 'The request is invalid.' });
    logger?.error({ error: error instanceof Error ? error.name : typeof error }, 'secret server simulator failure');
    // A SOAP client only understands a Fault, even for the simulator's own failures.
    if (request.routeOptions.url?.toLowerCase().endsWith(SOAP_PATH.toLowerCase())) {
      return reply.code(500).type('text/xml; charset=utf-8').send(soapFaultResponse(new SoapFault('Server was unable to process request.', 'soap:Server')));
    }
    return sendJson(reply, 500, { message: 'An error has occurred.' });
  });
  app.setNotFoundHandler((_request, reply) => sendJson(reply, 404, { message: 'No HTTP resource was found that matches the request URI.' }));

  const authorizeUrl = (request: FastifyRequest, requestId: string): string =>
    `${request.protocol}://${request.host}${basePath}/ApplicationAccess.aspx?request=${encodeURIComponent(requestId)}`;

  app.register(
    async (api) => {
      registerFaultHook(api, {
        basePath,
        closing: server.closing,
        take: (request, relativePath) => state.takeFault(request.method, relativePath, soapOperationOf(request.headers['soapaction'])),
        answer(fault, request, reply) {
          if (fault.hostile) {
            const operation = soapOperationOf(request.headers['soapaction']);
            return reply.code(fault.status ?? 200).type('text/xml; charset=utf-8').send(hostileAnswer(fault.hostile, operation));
          }
          // A fault with only a delay is a slow vault, not a failing one: the call goes through.
          if (fault.status === undefined && fault.delayMs !== undefined) return undefined;
          reply.code(fault.status ?? 503);
          if (fault.contentType) reply.type(fault.contentType);
          return reply.send(fault.body ?? '');
        },
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

      // a large vault is generated here rather than posted: 100 000 secrets make a seed of tens of megabytes
      control.post('/generate', async (request, reply) => {
        const parsed = generateOptionsSchema.safeParse(request.body ?? {});
        if (!parsed.success) return sendJson(reply, 400, { error: z.prettifyError(parsed.error) });
        const seed = generateSeed(parsed.data);
        state.reset(seed);
        return sendJson(reply, 200, summariseSeed(seed));
      });

      registerControlRoutes(control, { state, faultSchema, seedSchema: simSeedSchema, emptySeed: EMPTY_SEED });
    },
    { prefix: '/_sim' },
  );

  return { app, state, listen: (port, host) => server.listen(port, host), close: () => server.close() };
}
