import { Injectable } from '@nestjs/common';
import { consoleConfig, loadConfig, namespaceConfig } from '@openecm/config';
import {
  CONSOLE_CSRF_HEADER,
  CONSOLE_SESSION_COOKIE,
  CONSOLE_SESSION_COOKIE_INSECURE,
  ConsoleRole,
  OpenEcmError,
  consolePermissions,
  type ConsolePerson,
} from '@openecm/contracts';
import { constantTimeEqual, randomToken } from '@openecm/crypto';
import { RedisConnection } from '@openecm/service-kit';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** What Redis keeps of a console session; the browser holds only the random id, Redis only its digest. */
const StoredSession = z.object({
  subject: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  roles: z.array(ConsoleRole),
  csrfToken: z.string(),
  /** For the identity provider's end-session call (`id_token_hint`); never leaves the gateway. */
  idToken: z.string().nullable(),
  createdAt: z.number(),
  expiresAt: z.number(),
});
export type StoredSession = z.infer<typeof StoredSession>;

/** A sign-in under way: what the callback checks the identity provider's answer against. */
const PendingSignIn = z.object({ codeVerifier: z.string(), nonce: z.string(), returnTo: z.string() });
export type PendingSignIn = z.infer<typeof PendingSignIn>;

/** A sign-in must come back from the identity provider within this long. */
const SIGN_IN_TTL_SECONDS = 600;
const SIGN_IN_COOKIE = 'openecm-console-signin';

const digest = (value: string) => createHash('sha256').update(value).digest('base64url');

/** The cookies of a request by name; a name given twice keeps its first value. */
export function readCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name !== '' && !cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

export interface PersonSession {
  session: StoredSession;
  person: ConsolePerson;
}

/**
 * Console sessions and pending sign-ins in Redis, so any gateway instance serves a person signed in at another
 * and a sign-out ends the session everywhere at once. A session ends CONSOLE_SESSION_TTL_SECONDS after sign-in
 * and CONSOLE_SESSION_IDLE_SECONDS after its last request, whichever comes first.
 */
@Injectable()
export class ConsoleSessions {
  private readonly config = loadConfig(consoleConfig);
  private readonly prefix = `${loadConfig(namespaceConfig).OPENECM_NAMESPACE ?? 'openecm'}:console`;

  constructor(private readonly redis: RedisConnection) {}

  get cookieName(): string {
    return this.config.CONSOLE_COOKIE_SECURE ? CONSOLE_SESSION_COOKIE : CONSOLE_SESSION_COOKIE_INSECURE;
  }

  private cookie(name: string, value: string, maxAgeSeconds: number, path: string, sameSite: 'Strict' | 'Lax'): string {
    const secure = this.config.CONSOLE_COOKIE_SECURE ? '; Secure' : '';
    return `${name}=${value}; Path=${path}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=${sameSite}${secure}`;
  }

  private appendCookie(res: Response, cookie: string): void {
    const current = res.getHeader('Set-Cookie');
    const list = Array.isArray(current) ? current : typeof current === 'string' ? [current] : [];
    res.setHeader('Set-Cookie', [...list, cookie]);
  }

  // ---- sign-in under way ----

  /** Keeps the PKCE verifier and nonce under the state's digest; the browser carries the state in a cookie too. */
  async beginSignIn(res: Response, state: string, pending: PendingSignIn): Promise<void> {
    await this.redis.client.set(`${this.prefix}:sign-in:${digest(state)}`, JSON.stringify(pending), 'EX', SIGN_IN_TTL_SECONDS);
    // Path=/console/auth: only the callback sees it; SameSite=Lax lets the identity provider's redirect carry it
    this.appendCookie(res, this.cookie(SIGN_IN_COOKIE, state, SIGN_IN_TTL_SECONDS, '/console/auth', 'Lax'));
  }

  /**
   * The pending sign-in the callback's state names, taken once (a replayed callback finds nothing), and only
   * when this browser started it: the state must equal the one in its sign-in cookie.
   */
  async takeSignIn(req: Request, res: Response, state: string | undefined): Promise<PendingSignIn | undefined> {
    const started = readCookies(req.headers.cookie).get(SIGN_IN_COOKIE);
    this.appendCookie(res, this.cookie(SIGN_IN_COOKIE, '', 0, '/console/auth', 'Lax'));
    if (!state || !started || !constantTimeEqual(digest(started), digest(state))) return undefined;
    const raw = await this.redis.client.getdel(`${this.prefix}:sign-in:${digest(state)}`);
    if (!raw) return undefined;
    return PendingSignIn.parse(JSON.parse(raw));
  }

  // ---- sessions ----

  // SameSite=Strict: no request another site starts carries the session, not even a top-level navigation; the
  // callback hands over to the console with a page of this origin, so the cookie set there is sent on the way in.

  async start(res: Response, person: Omit<StoredSession, 'csrfToken' | 'createdAt' | 'expiresAt'>): Promise<void> {
    const id = randomToken(32);
    const now = Date.now();
    const session: StoredSession = {
      ...person,
      csrfToken: randomToken(32),
      createdAt: now,
      expiresAt: now + this.config.CONSOLE_SESSION_TTL_SECONDS * 1000,
    };
    const ttl = Math.min(this.config.CONSOLE_SESSION_IDLE_SECONDS, this.config.CONSOLE_SESSION_TTL_SECONDS);
    await this.redis.client.set(this.key(id), JSON.stringify(session), 'EX', ttl);
    this.appendCookie(res, this.cookie(this.cookieName, id, this.config.CONSOLE_SESSION_TTL_SECONDS, '/', 'Strict'));
  }

  private key(id: string): string {
    return `${this.prefix}:session:${digest(id)}`;
  }

  private sessionId(req: Request): string | undefined {
    const id = readCookies(req.headers.cookie).get(this.cookieName);
    return id && /^[A-Za-z0-9_-]{16,128}$/.test(id) ? id : undefined;
  }

  /** Whether the request carries a console session cookie at all (live or not). */
  hasCookie(req: Request): boolean {
    return this.sessionId(req) !== undefined;
  }

  /** The live session of the request's cookie, its idle time renewed; undefined without one. */
  async resolve(req: Request): Promise<PersonSession | undefined> {
    if (!this.config.OIDC_ISSUER) return undefined;
    const id = this.sessionId(req);
    if (!id) return undefined;
    const raw = await this.redis.client.get(this.key(id));
    if (!raw) return undefined;
    const session = StoredSession.parse(JSON.parse(raw));
    const left = Math.floor((session.expiresAt - Date.now()) / 1000);
    if (left <= 0) {
      await this.redis.client.del(this.key(id));
      return undefined;
    }
    await this.redis.client.expire(this.key(id), Math.min(left, this.config.CONSOLE_SESSION_IDLE_SECONDS));
    return {
      session,
      person: {
        subject: session.subject,
        name: session.name,
        email: session.email,
        roles: session.roles,
        permissions: consolePermissions(session.roles),
      },
    };
  }

  /** A state-changing call of a session must carry its CSRF token in CONSOLE_CSRF_HEADER. */
  checkCsrf(req: Request, session: StoredSession): void {
    const sent = req.headers[CONSOLE_CSRF_HEADER];
    if (typeof sent !== 'string' || !constantTimeEqual(digest(sent), digest(session.csrfToken))) {
      throw new OpenEcmError('CSRF_TOKEN_INVALID', `a console call that changes something needs the session's CSRF token in ${CONSOLE_CSRF_HEADER}`);
    }
  }

  /** Ends the request's session on every instance and clears the cookie. */
  async end(req: Request, res: Response): Promise<void> {
    const id = this.sessionId(req);
    if (id) await this.redis.client.del(this.key(id));
    this.appendCookie(res, this.cookie(this.cookieName, '', 0, '/', 'Strict'));
  }
}

/** Methods that change nothing, for which a console session needs no CSRF token. */
export function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}
