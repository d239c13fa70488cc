import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import { ERROR_CODES, OpenEcmError, problemType, type ErrorCode, type ProblemDetails } from '@openecm/contracts';
import { isDependencyOutage } from '@openecm/messaging';
import { describeUnexpected } from '@openecm/telemetry';
import type { Request, Response } from 'express';

const TITLES: Partial<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const HTTP_CODES: Record<number, ErrorCode> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_MISSING',
  404: 'NOT_FOUND',
};

/** The body of every error answer; its schema is in the contracts, beside the HTTP API it describes. */
export type Problem = ProblemDetails;

/** The title of an HTTP status as problem answers give it. */
export function problemTitle(status: number): string {
  return TITLES[status] ?? 'Error';
}

export function toProblem(error: unknown, instance?: string): Problem {
  if (error instanceof OpenEcmError) {
    const status = ERROR_CODES[error.code];
    return {
      type: problemType(error.code),
      title: TITLES[status] ?? 'Error',
      status,
      detail: error.message,
      code: error.code,
      ...(error.fields ? { errors: error.fields } : {}),
      ...error.details,
      ...(instance ? { instance } : {}),
    };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const code = HTTP_CODES[status] ?? (status >= 500 ? 'INTERNAL' : 'VALIDATION_FAILED');
    // body-parser failures (malformed JSON, too large) surface here with safe, generic messages
    return toProblem(new OpenEcmError(code, status === 404 ? 'no such route' : error.message), instance);
  }
  const parserStatus = (error as { status?: number; type?: string }).status;
  if (typeof parserStatus === 'number' && parserStatus >= 400 && parserStatus < 500) {
    return { ...toProblem(new OpenEcmError('VALIDATION_FAILED', 'the request body is not valid JSON'), instance), status: parserStatus, title: TITLES[parserStatus] ?? 'Bad Request' };
  }
  if (isDependencyOutage(error)) {
    return toProblem(new OpenEcmError('SERVICE_UNAVAILABLE', 'a dependency of the service is unavailable; try again shortly'), instance);
  }
  return toProblem(new OpenEcmError('INTERNAL', 'internal error'), instance);
}

/** Every error leaves as application/problem+json with a stable `code`; unexpected ones are logged without their message. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<Request>();
    const problem = toProblem(error, req.path);
    if (problem.status >= 500 && !(error instanceof OpenEcmError)) {
      this.logger.error({ err: describeUnexpected(error), path: req.path }, 'unexpected error');
    }
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  }
}
