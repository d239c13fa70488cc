import { HTTP_CODE_METADATA, METHOD_METADATA, MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod, type DynamicModule, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GATEWAY_ROUTES, OpenEcmError, routeErrors, type GatewayRoute } from '@openecm/contracts';
import { toProblem } from '@openecm/service-kit';
import { OpenApiConformance } from '@openecm/testing';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { AppModule } from '../app.module';
import { REQUIRED_PERMISSION } from '../oauth/api-auth.guard';
import { buildOpenApiDocument } from './openapi-document';
import { OPENAPI_FILE, serializeDocument } from './openapi-file';

interface ServedRoute {
  key: string;
  permission: string | undefined;
  status: number;
}

function controllersOf(module: Type | DynamicModule, seen = new Set<unknown>()): Type[] {
  if (seen.has(module)) return [];
  seen.add(module);
  const type = typeof module === 'function' ? module : module.module;
  const dynamic: Partial<DynamicModule> = typeof module === 'function' ? {} : module;
  const controllers: Type[] = [...(Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, type) ?? []), ...(dynamic.controllers ?? [])];
  const imports: Array<Type | DynamicModule> = [...(Reflect.getMetadata(MODULE_METADATA.IMPORTS, type) ?? []), ...(dynamic.imports ?? [])];
  return [...controllers, ...imports.flatMap((m) => controllersOf(m, seen))];
}

/** Every route Nest serves for the gateway, read from the decorators the way Nest reads them. */
function servedRoutes(): ServedRoute[] {
  const reflector = new Reflector();
  return controllersOf(AppModule).flatMap((controller) => {
    const prefix = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    return Object.getOwnPropertyNames(controller.prototype).flatMap((name) => {
      const handler = (controller.prototype as Record<string, unknown>)[name];
      if (name === 'constructor' || typeof handler !== 'function') return [];
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      if (path === undefined) return [];
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod].toLowerCase();
      const template = `/${[prefix, path].join('/')}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1').replace(/:(\w+)/g, '{$1}');
      return [
        {
          key: `${method} ${template}`,
          permission: reflector.getAllAndOverride<string | undefined>(REQUIRED_PERMISSION, [handler, controller]),
          status: (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ?? (method === 'post' ? 201 : 200),
        },
      ];
    });
  });
}

const ROUTES = Object.values(GATEWAY_ROUTES) as GatewayRoute[];
const keyOf = (route: GatewayRoute) => `${route.method} ${route.path}`;

describe('the OpenAPI document', () => {
  const document = buildOpenApiDocument();

  it('describes every route the gateway serves, with the permission it checks and the status it answers', () => {
    const described = new Map(ROUTES.map((r) => [keyOf(r), r]));
    const served = servedRoutes();
    const undescribed = served.filter((s) => !described.has(s.key)).map((s) => s.key);
    // a new route is described in GATEWAY_ROUTES (libs/contracts/src/gateway-api.ts), then `npm run openapi`
    expect(undescribed).toEqual([]);
    expect(ROUTES.map(keyOf).filter((k) => !served.some((s) => s.key === k))).toEqual([]);
    for (const route of served) {
      const description = described.get(route.key) as GatewayRoute;
      const permission = typeof description.access === 'object' ? description.access.permission : undefined;
      expect({ route: route.key, permission: route.permission }).toEqual({ route: route.key, permission });
      expect(Object.keys(description.answers)).toContain(String(route.status));
    }
  });

  it('equals the committed docs/openapi.json (run `npm run openapi` after changing a contract)', () => {
    expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(serializeDocument(document));
  });

  it('lints clean with the recommended Redocly rules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, serializeDocument(document));
      const root = resolve(__dirname, '../../../..');
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [require.resolve('@redocly/cli/bin/cli.js'), 'lint', file, '--config', join(root, 'redocly.yaml'), '--format', 'json'],
        { cwd: root, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' } },
      );
      const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { totals: Record<string, number>; problems: Array<{ ruleId: string; message: string }> };
      expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
      expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it("documents every error a route can answer exactly as the gateway's problem filter writes it", () => {
    const conformance = new OpenApiConformance(document);
    for (const route of ROUTES) {
      const path = route.path.replace(/\{[^}]+\}/g, 'x');
      for (const code of routeErrors(route)) {
        const fields = code === 'VALIDATION_FAILED' ? [{ field: 'user', message: 'Required' }] : undefined;
        const problem = toProblem(new OpenEcmError(code, 'what went wrong', fields), path);
        const answer = { method: route.method, url: `http://gateway${path}`, status: problem.status, contentType: 'application/problem+json' };
        expect(conformance.check({ ...answer, body: JSON.stringify(problem) })).toBeUndefined();
        expect(conformance.check({ ...answer, body: JSON.stringify({ ...problem, code: 'NOT_A_CODE' }) })).toMatch(/rejects/);
      }
    }
  });

  it('gives every operation a 4xx and a 5xx answer and names its security', () => {
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      for (const [method, operation] of Object.entries(item as Record<string, { responses: object; security?: unknown[] }>)) {
        const statuses = Object.keys(operation.responses);
        expect({ at: `${method} ${path}`, has4xx: statuses.some((s) => s.startsWith('4')), has5xx: statuses.includes('500') }).toEqual({
          at: `${method} ${path}`,
          has4xx: true,
          has5xx: true,
        });
        expect(operation.security).toBeDefined();
      }
    }
  });
});
