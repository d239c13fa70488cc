import { ConfigError, consoleConfig, loadConfig } from '@openecm/config';
import { OpenEcmError, consolePermissions, type ConsolePerson } from '@openecm/contracts';
import { randomToken } from '@openecm/crypto';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiAuthGuard, REQUIRED_PERMISSION, principalOf } from '../oauth/api-auth.guard';
import type { ApiPrincipal } from '../oauth/permission';
import type { TokenService } from '../oauth/token.service';
import { consoleDir } from './console-pages.http-controller';
import { readCookies, type ConsoleSessions, type PersonSession } from './console-sessions';
import { rolesOf } from './oidc-sign-in';

const MAP = loadConfig(consoleConfig, {}).OIDC_ROLE_MAP;
const GOOD_TOKEN = randomToken(32);
const BAD_TOKEN = randomToken(32);

describe('the role claim', () => {
  it('maps a string or a list of strings through OIDC_ROLE_MAP, ignoring what the map does not name', () => {
    expect(rolesOf('openecm-viewer', MAP)).toEqual(['viewer']);
    expect(rolesOf(['staff', 'openecm-admin', 'openecm-viewer'], MAP)).toEqual(['viewer', 'admin']);
    expect(rolesOf(['staff', 42, null], MAP)).toEqual([]);
    expect(rolesOf(undefined, MAP)).toEqual([]);
    expect(rolesOf({ groups: ['openecm-admin'] }, MAP)).toEqual([]);
  });

  it('lets one value grant two roles, and a value with colons name its role after the last', () => {
    const map = loadConfig(consoleConfig, { OIDC_ROLE_MAP: 'cn=secops:viewer, cn=secops:approver ,urn:x:admins:admin' }).OIDC_ROLE_MAP;
    expect(rolesOf('cn=secops', map)).toEqual(['viewer', 'approver']);
    expect(rolesOf('urn:x:admins', map)).toEqual(['admin']);
  });

  it('gives viewer reporting, approver approvals and admin admin, and no role credentials', () => {
    expect(consolePermissions(['viewer'])).toEqual(['reporting']);
    expect(consolePermissions(['approver'])).toEqual(['approvals']);
    expect(consolePermissions(['admin', 'viewer', 'approver']).sort()).toEqual(['admin', 'approvals', 'reporting']);
  });
});

describe('the console configuration', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(consoleConfig, env);
      return [];
    } catch (error) {
      return (error as ConfigError).issues.map((i) => i.variable);
    }
  };

  it('is off without an issuer, with a Secure cookie and groups as the role claim', () => {
    const config = loadConfig(consoleConfig, {});
    expect(config.OIDC_ISSUER).toBeUndefined();
    expect(config).toMatchObject({ CONSOLE_COOKIE_SECURE: true, OIDC_ROLE_CLAIM: 'groups' });
  });

  it('needs a client id and redirect URI with an issuer, and https unless the issuer is on loopback', () => {
    expect(problems({ OIDC_ISSUER: 'https://login.example.com' }).sort()).toEqual(['OIDC_CLIENT_ID', 'OIDC_REDIRECT_URI']);
    const client = { OIDC_CLIENT_ID: 'openecm', OIDC_REDIRECT_URI: 'https://openecm.example.com/console/auth/callback' };
    expect(problems({ ...client, OIDC_ISSUER: 'http://login.example.com' })).toEqual(['OIDC_ISSUER']);
    expect(problems({ ...client, OIDC_ISSUER: 'http://127.0.0.1:8092' })).toEqual([]);
    expect(problems({ OIDC_ROLE_MAP: 'openecm-viewer:reader' })).toEqual(['OIDC_ROLE_MAP']);
  });

  it('never prints the client secret', () => {
    expect(consoleConfig.sensitive).toEqual(['OIDC_CLIENT_SECRET']);
  });
});

describe('cookies and the built console', () => {
  it('reads the cookies of a request, the first of a name twice', () => {
    expect([...readCookies('a=1; openecm-console=abc=; a=2;broken; =x')]).toEqual([
      ['a', '1'],
      ['openecm-console', 'abc='],
    ]);
    expect(readCookies(undefined).size).toBe(0);
  });

  it('finds the console built beside the compiled gateway, or in dist/ from the sources', () => {
    const root = mkdtempSync(join(tmpdir(), 'console-dir-'));
    try {
      const gateway = join(root, 'dist/apps/appliance-gateway/src/console');
      mkdirSync(gateway, { recursive: true });
      expect(consoleDir(undefined, gateway)).toBeUndefined();
      mkdirSync(join(root, 'dist/apps/console/assets'), { recursive: true });
      writeFileSync(join(root, 'dist/apps/console/index.html'), '<!doctype html>');
      expect(consoleDir(undefined, gateway)).toBe(join(root, 'dist/apps/console'));
      const sources = join(root, 'apps/appliance-gateway/src/console');
      mkdirSync(sources, { recursive: true });
      expect(consoleDir(undefined, sources)).toBe(join(root, 'dist/apps/console'));
      expect(consoleDir(join(root, 'nowhere'), gateway)).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('@Authorize with a console session', () => {
  const person = (roles: ConsolePerson['roles']): PersonSession => ({
    person: { subject: 's-1', name: 'Vera', email: null, roles, permissions: consolePermissions(roles) },
    session: { subject: 's-1', name: 'Vera', email: null, roles, csrfToken: 'the-csrf-token', idToken: null, createdAt: 0, expiresAt: Date.now() + 60_000 },
  });
  const account: ApiPrincipal = { accountId: 'a-1', clientId: 'appliance', permissions: ['credentials'] };

  function guard(found: PersonSession | undefined) {
    const tokens = { resolve: async (token: string) => (token === GOOD_TOKEN ? account : undefined) } as unknown as TokenService;
    const people = {
      resolve: async () => found,
      checkCsrf: (req: { headers: Record<string, string> }, session: PersonSession['session']) => {
        if (req.headers['x-openecm-csrf'] !== session.csrfToken) throw new OpenEcmError('CSRF_TOKEN_INVALID', 'no token');
      },
    } as unknown as ConsoleSessions;
    return new ApiAuthGuard(new Reflector(), tokens, people);
  }

  function call(permission: string, method: string, headers: Record<string, string> = {}) {
    const handler = () => undefined;
    Reflect.defineMetadata(REQUIRED_PERMISSION, permission, handler);
    const request = { method, headers: { cookie: 'openecm-console=x', ...headers } };
    const response = { setHeader: () => undefined };
    const context = {
      getHandler: () => handler,
      getClass: () => class {},
      switchToHttp: () => ({ getRequest: () => request, getResponse: () => response }),
    } as unknown as ExecutionContext;
    return { context, request };
  }

  const codeOf = (promise: Promise<unknown>) => promise.then(() => 'allowed', (e: OpenEcmError) => e.code);

  it('admits a viewer to reporting and an admin to admin, and names the missing role otherwise', async () => {
    const reading = call('reporting', 'GET');
    await expect(guard(person(['viewer'])).canActivate(reading.context)).resolves.toBe(true);
    expect(principalOf(reading.request as never)).toMatchObject({ clientId: 'person:s-1', permissions: ['reporting'] });
    await expect(codeOf(guard(person(['admin'])).canActivate(call('admin', 'GET').context))).resolves.toBe('allowed');
    await expect(guard(person(['approver'])).canActivate(call('reporting', 'GET').context)).rejects.toThrow('the console role "viewer"');
    await expect(codeOf(guard(person(['viewer'])).canActivate(call('credentials', 'GET').context))).resolves.toBe('PERMISSION_MISSING');
    await expect(codeOf(guard(undefined).canActivate(call('reporting', 'GET').context))).resolves.toBe('UNAUTHENTICATED');
  });

  it("lets a session change something only with its CSRF token", async () => {
    await expect(codeOf(guard(person(['admin'])).canActivate(call('admin', 'PUT').context))).resolves.toBe('CSRF_TOKEN_INVALID');
    await expect(codeOf(guard(person(['admin'])).canActivate(call('admin', 'PUT', { 'x-openecm-csrf': 'the-csrf-token' }).context))).resolves.toBe('allowed');
  });

  it('checks an Authorization header as before, whatever cookie comes with it', async () => {
    await expect(codeOf(guard(person(['admin'])).canActivate(call('admin', 'GET', { authorization: `Bearer ${GOOD_TOKEN}` }).context))).resolves.toBe('PERMISSION_MISSING');
    await expect(codeOf(guard(person(['admin'])).canActivate(call('admin', 'GET', { authorization: `Bearer ${BAD_TOKEN}` }).context))).resolves.toBe('UNAUTHENTICATED');
    await expect(codeOf(guard(person(['viewer'])).canActivate(call('credentials', 'POST', { authorization: `Bearer ${GOOD_TOKEN}` }).context))).resolves.toBe('allowed');
  });
});
