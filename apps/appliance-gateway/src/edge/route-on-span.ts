import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { context } from '@opentelemetry/api';
import { RPCType, getRPCMetadata } from '@opentelemetry/core';
import type { Request } from 'express';

/**
 * Names a request's HTTP server span by its route (`GET /api/v1/leases/:leaseId`, never the path with its ids),
 * the way OpenTelemetry's framework instrumentations do: through the request's RPC metadata, which the HTTP
 * instrumentation reads as the answer goes out. One property set per request, where an instrumentation of every
 * Express layer cost every request a wrapper per middleware.
 *
 * A global guard, the first thing Nest runs once the route is known, so that a request refused by the
 * authentication guard (the failures tracing keeps) is named by its route too. It lets every request through.
 */
@Injectable()
export class RouteOnSpan implements CanActivate {
  canActivate(ctx: ExecutionContext): true {
    if (ctx.getType() === 'http') {
      const metadata = getRPCMetadata(context.active());
      const route = (ctx.switchToHttp().getRequest<Request>().route as { path?: unknown } | undefined)?.path;
      if (metadata?.type === RPCType.HTTP && typeof route === 'string') metadata.route = route;
    }
    return true;
  }
}
