import {
  Injectable,
  SetMetadata,
  UseGuards,
  applyDecorators,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { OpenEcmError, type ApiPermission } from '@openecm/contracts';
import type { Request, Response } from 'express';
import { parseBearerToken } from './client-credentials';
import { decideAccess, type ApiPrincipal } from './permission';
import { TokenService } from './token.service';

export const REQUIRED_PERMISSION = 'openecm:required-permission';

/** The account each request was admitted for, kept beside the request rather than on it. */
const principals = new WeakMap<Request, ApiPrincipal>();

/** Checks the Bearer token and the permission that `@Authorize` put on the route. */
@Injectable()
export class ApiAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const required = this.reflector.getAllAndOverride<ApiPermission | undefined>(REQUIRED_PERMISSION, [
      context.getHandler(),
      context.getClass(),
    ]);
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const token = parseBearerToken(request.headers.authorization);
    const principal = token ? await this.tokens.resolve(token) : undefined;
    switch (decideAccess(principal, required)) {
      case 'allow':
        if (principal) principals.set(request, principal);
        return true;
      case 'unauthenticated':
        http.getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="openecm"');
        throw new OpenEcmError('UNAUTHENTICATED', 'a valid access token is required');
      case 'forbidden':
        throw new OpenEcmError('PERMISSION_MISSING', `the API account lacks the "${required ?? 'unknown'}" permission`);
    }
  }
}

/** The route (or every route of the controller) needs a live access token of an account holding `permission`. */
export function Authorize(permission: ApiPermission): ClassDecorator & MethodDecorator {
  return applyDecorators(SetMetadata(REQUIRED_PERMISSION, permission), UseGuards(ApiAuthGuard));
}

/** The API account a request was admitted for, if any (the audit trail's actor). */
export function principalOf(request: Request): ApiPrincipal | undefined {
  return principals.get(request);
}

/** The API account of a route behind `@Authorize`: a handler parameter. */
export const Principal = createParamDecorator((_data: unknown, context: ExecutionContext): ApiPrincipal => {
  const principal = principals.get(context.switchToHttp().getRequest<Request>());
  // only reachable on a route without @Authorize, which admits nobody anyway
  if (!principal) throw new OpenEcmError('UNAUTHENTICATED', 'a valid access token is required');
  return principal;
});
