import { Injectable, SetMetadata, UseGuards, applyDecorators, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { OpenEcmError, type ApiPermission } from '@openecm/contracts';
import type { Request, Response } from 'express';
import { parseBearerToken } from './client-credentials';
import { decideAccess } from './permission';
import { TokenService } from './token.service';

export const REQUIRED_PERMISSION = 'openecm:required-permission';

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
    const token = parseBearerToken(http.getRequest<Request>().headers.authorization);
    const principal = token ? await this.tokens.resolve(token) : undefined;
    switch (decideAccess(principal, required)) {
      case 'allow':
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
