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
import { CONSOLE_ROLE_PERMISSIONS, OpenEcmError, type ApiPermission, type ConsolePerson } from '@openecm/contracts';
import type { Request, Response } from 'express';
import { ConsoleSessions, isSafeMethod } from '../console/console-sessions';
import { parseBearerToken } from './client-credentials';
import { decideAccess, type ApiPrincipal } from './permission';
import { TokenService } from './token.service';

export const REQUIRED_PERMISSION = 'openecm:required-permission';

/** The account each request was admitted for, kept beside the request rather than on it. */
const principals = new WeakMap<Request, ApiPrincipal>();

/** A person signed in to the console, admitted with the permissions their roles grant. */
export function personPrincipal(person: ConsolePerson): ApiPrincipal {
  return { accountId: `person:${person.subject}`, clientId: `person:${person.subject}`, permissions: person.permissions, person };
}

/** The role a person needs for a permission, for the refusal's message. */
function roleFor(permission: ApiPermission | readonly ApiPermission[] | undefined): string {
  const anyOf = typeof permission === 'string' ? [permission] : (permission ?? []);
  const role = Object.entries(CONSOLE_ROLE_PERMISSIONS).find(([, granted]) => anyOf.some((p) => granted.includes(p)))?.[0];
  return role ? `the console role "${role}"` : `a console role granting "${anyOf.join('" or "') || 'unknown'}"`;
}

/**
 * Checks the Bearer token, or without an Authorization header a console session cookie, against the
 * permission that `@Authorize` put on the route. An API account is admitted exactly as before; a person by the
 * permissions their console roles grant (viewer: `reporting`, admin: `admin`), and a call of theirs that
 * changes something only with the session's CSRF token.
 */
@Injectable()
export class ApiAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
    private readonly people: ConsoleSessions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const required = this.reflector.getAllAndOverride<ApiPermission | readonly ApiPermission[] | undefined>(REQUIRED_PERMISSION, [
      context.getHandler(),
      context.getClass(),
    ]);
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const token = parseBearerToken(request.headers.authorization);
    let principal = token ? await this.tokens.resolve(token) : undefined;
    let person: Awaited<ReturnType<ConsoleSessions['resolve']>>;
    if (request.headers.authorization === undefined) {
      person = await this.people.resolve(request);
      if (person) principal = personPrincipal(person.person);
    }
    switch (decideAccess(principal, required)) {
      case 'allow':
        if (person && !isSafeMethod(request.method)) this.people.checkCsrf(request, person.session);
        if (principal) principals.set(request, principal);
        return true;
      case 'unauthenticated':
        http.getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="openecm"');
        throw new OpenEcmError('UNAUTHENTICATED', 'a valid access token is required');
      case 'forbidden':
        if (person) throw new OpenEcmError('PERMISSION_MISSING', `the signed-in person lacks ${roleFor(required)}`);
        throw new OpenEcmError('PERMISSION_MISSING', `the API account lacks the "${(typeof required === 'string' ? [required] : (required ?? ['unknown'])).join('" or "')}" permission`);
    }
  }
}

/** The route (or every route of the controller) needs a live access token of an account holding `permission` (or one of `or`). */
export function Authorize(permission: ApiPermission, ...or: ApiPermission[]): ClassDecorator & MethodDecorator {
  return applyDecorators(SetMetadata(REQUIRED_PERMISSION, or.length > 0 ? [permission, ...or] : permission), UseGuards(ApiAuthGuard));
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
