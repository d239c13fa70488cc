import type { INestApplication } from '@nestjs/common';
import { gatewayConfig, loadConfig } from '@openecm/config';
import { OpenEcmError } from '@openecm/contracts';
import { traceHttpRequests } from '@openecm/telemetry';
import { json, urlencoded, type Express, type NextFunction, type Request, type Response } from 'express';
import type { Server } from 'node:http';
import { applianceAdmission } from './edge/admission';
import { answerClientError } from './edge/client-error';
import { ControlCharactersPipe } from './edge/control-characters.pipe';
import { RouteOnSpan } from './edge/route-on-span';
import { requireClientCertificate } from './edge/tls';
import { INGEST_BODY_LIMIT_BYTES, SESSION_EVENTS_PATH } from './sessions/session-events.http-controller';

export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * The public edge. Body parsing is registered before Nest's own parsers, which then stand aside; the parser's
 * own error messages can quote the body back (a JSON syntax error shows the text around it, and a body may
 * hold a secret), so they are replaced by fixed ones here. `X-Forwarded-For` counts only from the proxies
 * GATEWAY_TRUSTED_PROXIES names. Control characters in the path, query or body are refused before any
 * controller sees them, and requests Node's parser refuses are answered with problem+json too.
 */
export function configureGateway(app: INestApplication): void {
  const express: Express = app.getHttpAdapter().getInstance();
  express.disable('x-powered-by');
  // No ETag on an answer: it is a digest of the body, an injection's secret included, in a header that proxies
  // log; and no appliance call is ever revalidated. (Express hashed every answer for it.)
  express.set('etag', false);
  const config = loadConfig(gatewayConfig);
  const proxies = config.GATEWAY_TRUSTED_PROXIES;
  express.set('trust proxy', proxies.length > 0 ? proxies : false);
  (app.getHttpServer() as Server).on('clientError', answerClientError);
  app.useGlobalPipes(new ControlCharactersPipe());
  app.useGlobalGuards(new RouteOnSpan());
  // first, so that every request is in its trace, the refusals below included
  app.use(traceHttpRequests());
  if (config.GATEWAY_TLS_CLIENT_CA) app.use(requireClientCertificate);
  // before any body is parsed or token checked: a call beyond the limit costs next to nothing
  app.use(applianceAdmission(config.GATEWAY_MAX_IN_FLIGHT));
  app.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });
  // an appliance's event batch (up to 1,000 events) may be larger; a body parsed here is not parsed again below
  app.use(SESSION_EVENTS_PATH, json({ limit: INGEST_BODY_LIMIT_BYTES }));
  app.use(json({ limit: BODY_LIMIT_BYTES }));
  app.use(urlencoded({ limit: BODY_LIMIT_BYTES, extended: false, parameterLimit: 100 }));
  app.use((error: unknown, _req: Request, _res: Response, next: NextFunction) => next(safeBodyError(error)));
}

/** body-parser marks its errors with a `type` (entity.parse.failed, entity.too.large...) and a 4xx status. */
export function safeBodyError(error: unknown): unknown {
  const { type, status } = (error ?? {}) as { type?: unknown; status?: unknown };
  if (typeof type !== 'string' || typeof status !== 'number' || status < 400 || status > 499) return error;
  const message =
    type === 'entity.too.large'
      ? `the request body is larger than ${BODY_LIMIT_BYTES / 1024} kb`
      : type === 'entity.parse.failed'
        ? 'the request body is not valid JSON'
        : 'the request body could not be read';
  return new OpenEcmError('VALIDATION_FAILED', message, [{ field: '(body)', message }]);
}
