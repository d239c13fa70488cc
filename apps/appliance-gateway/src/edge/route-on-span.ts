import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { nameServerSpan } from '@openecm/telemetry';
import type { Request } from 'express';

/**
 * Names a request's HTTP server span by its route (`GET /api/v1/leases/:leaseId`, never the path with its ids).
 * One name set per request, where an instrumentation of every Express layer cost every request a wrapper per
 * middleware.
 *
 * A global guard, the first thing Nest runs once the route is known, so that a request refused by the
 * authentication guard (the failures tracing keeps) is named by its route too. It lets every request through.
 */
@Injectable()
export class RouteOnSpan implements CanActivate {
  canActivate(ctx: ExecutionContext): true {
    if (ctx.getType() === 'http') {
      const request = ctx.switchToHttp().getRequest<Request>();
      const route = (request.route as { path?: unknown } | undefined)?.path;
      if (typeof route === 'string') nameServerSpan(request, route);
    }
    return true;
  }
}
