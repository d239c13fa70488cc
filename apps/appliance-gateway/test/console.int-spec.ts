import type { INestApplication } from '@nestjs/common';
import type { ConsoleSession, ProblemDetails } from '@openecm/contracts';
import { NATS_URL, REDIS_URL, clearNamespaceKeys, createTestDatabase, deleteNamespaceStreams, startTestApp } from '@openecm/testing';
import type { Response as ExpressResponse } from 'express';
import { ConsoleSessions } from '../src/console/console-sessions';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
process.env['OPENECM_BOOTSTRAP_CLIENT_ID'] = 'console-admin';
process.env['OPENECM_BOOTSTRAP_CLIENT_SECRET'] = 'console-admin-secret-0123456789';
process.env['TOKEN_RATE_PER_ADDRESS'] = '3';

const OIDC = {
  // never called here: discovery happens at the first sign-in
  OIDC_ISSUER: 'http://127.0.0.1:9/idp',
  OIDC_CLIENT_ID: 'openecm-console',
  OIDC_REDIRECT_URI: 'http://127.0.0.1:9/console/auth/callback',
  CONSOLE_COOKIE_SECURE: 'true',
};

/** Console sessions across gateway instances (real Redis), and a gateway with no OpenID Connect settings. */
describe('console sessions at the gateway (real HTTP, Redis, Postgres)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let a: INestApplication;
  let b: INestApplication;
  let off: INestApplication;
  const url = new Map<INestApplication, string>();

  beforeAll(async () => {
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const { AppModule } = await import('../src/app.module');
    Object.assign(process.env, OIDC);
    for (const name of ['a', 'b'] as const) {
      const started = await startTestApp('appliance-gateway', AppModule);
      url.set(started.app, started.url);
      if (name === 'a') a = started.app;
      else b = started.app;
    }
    for (const key of Object.keys(OIDC)) delete process.env[key];
    const started = await startTestApp('appliance-gateway', AppModule);
    off = started.app;
    url.set(off, started.url);
  });

  afterAll(async () => {
    await Promise.all([a, b, off].map((app) => app?.close()));
    await db?.drop();
    await clearNamespaceKeys();
    await deleteNamespaceStreams();
  });

  /** A session started by instance `app`, as its callback would: the cookie it sets. */
  async function signIn(app: INestApplication, roles: Array<'viewer' | 'admin' | 'approver'>): Promise<string> {
    const headers: Record<string, unknown> = {};
    const res = { getHeader: (n: string) => headers[n], setHeader: (n: string, v: unknown) => (headers[n] = v) } as unknown as ExpressResponse;
    await app.get(ConsoleSessions).start(res, { subject: 'sub-1', name: 'Vera Viewer', email: null, roles, idToken: null });
    const cookie = (headers['Set-Cookie'] as string[])[0] as string;
    expect(cookie).toMatch(/^__Host-openecm-console=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=28800; HttpOnly; SameSite=Strict; Secure$/);
    return cookie.split(';')[0] as string;
  }

  const get = async <T>(app: INestApplication, path: string, cookie?: string) => {
    const res = await fetch(`${url.get(app)}${path}`, { headers: cookie ? { cookie } : {} });
    return { status: res.status, body: (await res.json()) as T };
  };

  it('serves a session started at one instance from another, and a sign-out at either ends it at both', async () => {
    const cookie = await signIn(a, ['viewer']);
    const seen = await get<ConsoleSession>(b, '/console/auth/session', cookie);
    expect(seen.body).toMatchObject({ configured: true, signedIn: true, person: { subject: 'sub-1', roles: ['viewer'], permissions: ['reporting'] } });
    const csrf = seen.body.csrfToken as string;
    const forged = await fetch(`${url.get(b)}/console/auth/logout`, { method: 'POST', headers: { cookie, 'x-openecm-csrf': 'not-the-token' } });
    expect(((await forged.json()) as ProblemDetails).code).toBe('CSRF_TOKEN_INVALID');
    const out = await fetch(`${url.get(b)}/console/auth/logout`, { method: 'POST', headers: { cookie, 'x-openecm-csrf': csrf } });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/^__Host-openecm-console=; Path=\/; Max-Age=0;/);
    expect((await get<ConsoleSession>(a, '/console/auth/session', cookie)).body).toMatchObject({ signedIn: false, csrfToken: null });
    expect((await get<ProblemDetails>(a, '/api/v1/reports/summary', cookie)).status).toBe(401);
  });

  it('refuses a made-up session id, and a bad return path naming the field', async () => {
    expect((await get<ConsoleSession>(a, '/console/auth/session', '__Host-openecm-console=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).body.signedIn).toBe(false);
    const bad = await get<ProblemDetails>(a, `/console/auth/login?returnTo=${encodeURIComponent('https://evil.example/console')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.map((e) => e.field)).toEqual(['returnTo']);
    const unknown = await get<ProblemDetails>(a, '/console/auth/callback?code=x&state=y&extra=1');
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors?.map((e) => e.field)).toEqual(['extra']);
  });

  it('counts sign-ins against the address, answering 503 while the identity provider is out of reach and 429 beyond', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await fetch(`${url.get(b)}/console/auth/login`);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([503, 503, 503, 429]);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await last?.json()) as ProblemDetails).code).toBe('RATE_LIMITED');
  });

  it('without OpenID Connect settings says sign-in is not configured and admits nobody by cookie', async () => {
    const page = await fetch(`${url.get(off)}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('Sign-in to the console is not configured');
    expect((await get<ConsoleSession>(off, '/console/auth/session')).body).toEqual({ configured: false, signedIn: false, person: null, csrfToken: null, expiresAt: null });
    expect((await get<ProblemDetails>(off, '/console/auth/login')).body.code).toBe('NOT_FOUND');
    // a session another instance started means nothing to a gateway without the console
    const cookie = await signIn(a, ['admin', 'viewer']);
    expect((await get<ProblemDetails>(off, '/api/v1/reports/summary', cookie)).status).toBe(401);
    expect((await get<ConsoleSession>(a, '/console/auth/session', cookie)).body.signedIn).toBe(true);
  });
});
