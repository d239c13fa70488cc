import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { OAuthErrorName } from '@openecm/contracts';
import { ProblemFilter, toProblem } from '@openecm/service-kit';
import type { Request, Response } from 'express';
import { OAuthError } from './oauth-error';

/**
 * The token endpoint's errors: the usual problem+json, plus the RFC 6749 `error` name that OAuth client
 * libraries look for. Server errors go to the common filter, which logs them.
 */
@Catch()
export class OAuthErrorFilter implements ExceptionFilter {
  private readonly fallback = new ProblemFilter();

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const problem = toProblem(error, req.path);
    if (problem.status >= 500) {
      this.fallback.catch(error, host);
      return;
    }
    const name: OAuthErrorName =
      error instanceof OAuthError ? error.oauthError : problem.status === 401 ? 'invalid_client' : 'invalid_request';
    if (problem.status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="openecm", charset="UTF-8"');
    if (error instanceof OAuthError && error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds));
    res
      .status(problem.status)
      .setHeader('Cache-Control', 'no-store')
      .type('application/problem+json')
      .send(JSON.stringify({ ...problem, error: name }));
  }
}
