import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerFactory } from 'fastify';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { nameServerSpan, traceHttpRequests } from '@openecm/telemetry/http-server';
import type { AddressInfo } from 'node:net';

/** Structural subset of a pino logger, so callers can pass pino without the simulator owning one. */
export interface SimLogger {
  debug(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** The options every simulator takes besides its own. */
export interface SimOptions<Seed> {
  /** Defaults to the demo seed; pass EMPTY_SEED to start with nothing. */
  seed?: Seed;
  basePath?: string;
  /** Serve HTTPS with this PEM key and certificate, to test clients against a private CA. */
  tls?: { key: string; cert: string };
  logger?: SimLogger;
}

/** A simulator as its factory hands it back. */
export interface Simulator<State> {
  app: FastifyInstance;
  /** Resolves to the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
  state: State;
}

export interface SimServerOptions {
  /** Normalised (see normaliseBasePath); the URL `listen` resolves to ends with it. */
  basePath: string;
  /** Serve HTTPS with this PEM key and certificate, to test clients against a private CA. */
  tls?: { key: string; cert: string } | undefined;
  /**
   * Cut open connections on close (the default) rather than let them finish: a delay fault holds calls on
   * purpose, and clients' kept-alive connections would otherwise keep a test process alive.
   */
  forceCloseConnections?: boolean;
  /** The vendor-shaped error that answers a JSON body which does not parse. */
  invalidJson(): Error;
  /**
   * Hand an empty body of a type other than JSON or form to the routes as `''` rather than `undefined`,
   * for routes (SOAP) that read every body as text and answer an empty one themselves.
   */
  keepEmptyText?: boolean;
  logger?: SimLogger | undefined;
  /** The message of the debug line logged for every request. */
  requestLogMessage: string;
  /** Fields to add to that line after the route, e.g. the SOAP operation. */
  requestLogDetails?(request: FastifyRequest): object;
}

export interface SimServer {
  app: FastifyInstance;
  /** Aborted once the simulator starts closing, so waits inside hooks and handlers end with it. */
  closing: AbortSignal;
  /** Resolves to the base URL without a trailing `/`. */
  listen(port?: number, host?: string): Promise<string>;
  /** Closes once; later calls answer the same promise. */
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** No trailing `/`, a leading one unless empty: the form Fastify prefixes and URL building expect. */
export function normaliseBasePath(basePath: string): string {
  const trimmed = basePath.replace(/\/+$/, '');
  return trimmed === '' ? '' : trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type(JSON_TYPE).send(JSON.stringify(body));
}

/**
 * Fastify's own failures (unsupported media type, body too large) carry their status; anything without
 * one is a simulator bug and so a 500.
 */
export function errorStatus(error: unknown): number {
  return typeof error === 'object' && error !== null && 'statusCode' in error ? Number(error.statusCode) : 500;
}

/**
 * The HTTP side every simulator shares: a Fastify instance that routes case-insensitively as IIS does,
 * optionally over TLS, with lenient body parsing and a request log that names routes, never URLs.
 * Routes, error handlers and the control API are the simulator's own.
 */
export function createSimServer(options: SimServerOptions): SimServer {
  const { basePath, tls, logger } = options;
  const closing = new AbortController();

  // each request in its trace, as a vault's own server would show it (the simulators run untraced in a bench)
  const traced = traceHttpRequests();
  const serverFactory: FastifyServerFactory = (handler) => {
    const tracedHandler = (req: IncomingMessage, res: ServerResponse) => traced(req, res, () => handler(req, res));
    return tls ? createHttpsServer({ key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' }, tracedHandler) : createHttpServer(tracedHandler);
  };

  const app: FastifyInstance = Fastify({
    // Fastify's own request logging would print URLs, which carry request ids and tokens; the hook below logs route patterns.
    logger: false,
    requestIdHeader: false,
    forceCloseConnections: options.forceCloseConnections ?? true,
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true },
    serverFactory,
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    // Real clients send e.g. `PUT .../Checkin` with an empty JSON body; ASP.NET accepts that, so must a simulator.
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(options.invalidJson(), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    done(null, Object.fromEntries(new URLSearchParams(text)));
  });
  // Anything else arrives as text; each route decides what it accepts.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    done(null, text === '' && !options.keepEmptyText ? undefined : text);
  });

  app.addHook('onRequest', (request, _reply, done) => {
    if (request.routeOptions.url) nameServerSpan(request.raw, request.routeOptions.url);
    done();
  });
  app.addHook('onResponse', async (request, reply) => {
    logger?.debug(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        ...options.requestLogDetails?.(request),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      options.requestLogMessage,
    );
  });
  app.addHook('onClose', async () => {
    closing.abort();
  });

  let closed: Promise<void> | undefined;
  return {
    app,
    closing: closing.signal,
    async listen(port = 0, host = '127.0.0.1') {
      await app.listen({ port, host });
      const address = app.server.address() as AddressInfo;
      // A wildcard address is nothing a client can dial; loopback reaches it from this machine.
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
