import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ProblemFilter } from '@openecm/service-kit';
import { OpenApiConformance } from '@openecm/testing';
import { API_DOCS_CSP, ApiDocsHttpController } from './api-docs.http-controller';
import { buildOpenApiDocument } from './openapi-document';

describe('the API description routes', () => {
  let app: INestApplication;
  let base: string;
  const conformance = new OpenApiConformance(buildOpenApiDocument());

  /** Fetches from the gateway and checks the answer against the document, as the end-to-end suite does. */
  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    const body = await res.text();
    const mismatch = conformance.check({ method: 'GET', url: res.url, status: res.status, contentType: res.headers.get('content-type'), body });
    expect(mismatch).toBeUndefined();
    return { res, body };
  };

  beforeAll(async () => {
    const module = await Test.createTestingModule({ controllers: [ApiDocsHttpController] }).compile();
    app = module.createNestApplication({ logger: false });
    app.useGlobalFilters(new ProblemFilter());
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await app.close();
  });

  it('serves the generated document without authentication', async () => {
    const { res, body } = await get('/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(JSON.parse(body)).toEqual(buildOpenApiDocument());
  });

  it('serves a reference page under a strict policy: scripts from the gateway only, no inline script, no eval', async () => {
    const { res, body } = await get('/api/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(API_DOCS_CSP);
    const directive = (name: string) => csp.split('; ').find((d) => d.startsWith(`${name} `));
    expect(directive('default-src')).toBe("default-src 'none'");
    expect(directive('script-src')).toBe("script-src 'self'");
    expect(directive('connect-src')).toBe("connect-src 'self'");
    expect(directive('frame-ancestors')).toBe("frame-ancestors 'none'");
    expect(body).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>/);
    expect(body).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('serves every file the page references from the installed package, and nothing else', async () => {
    const page = (await get('/api/docs')).body;
    const refs = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(refs.sort()).toEqual(['docs/assets/index.css', 'docs/assets/start.js', 'docs/assets/swagger-ui-bundle.js', 'docs/assets/swagger-ui.css']);
    for (const ref of refs) {
      const { res, body } = await get(`/api/${ref}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(ref.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      expect(body.length).toBeGreaterThan(0);
    }
    const start = (await get('/api/docs/assets/start.js')).body;
    expect(start).toContain("url: 'openapi.json'");
    expect(start).toContain('validatorUrl: null');
    for (const path of ['/api/docs/assets/index.html', '/api/docs/assets/..%2Fpackage.json', '/api/docs/assets/swagger-ui-bundle.js.map']) {
      const { res, body } = await get(path);
      expect(res.status).toBe(404);
      expect(JSON.parse(body)).toMatchObject({ code: 'NOT_FOUND' });
    }
  });
});
