import { Controller, Get, HttpCode, Logger, Post, Query, Req, Res } from '@nestjs/common';
import {
  ConsoleCallbackQuery,
  ConsoleLoginQuery,
  OpenEcmError,
  parseOrThrow,
  type ConsoleSession,
  type ConsoleSignInFailure,
  type ConsoleSignInStart,
  type ConsoleSignedOut,
} from '@openecm/contracts';
import type { Request, Response } from 'express';
import { SignInLimiter, SignInRefused } from '../oauth/sign-in-limiter';
import { ConsoleSessions } from './console-sessions';
import { OidcSignIn } from './oidc-sign-in';

/**
 * People signing in to the console: `/console/auth/login` answers where to send the browser at the identity
 * provider, the callback starts the session, `/console/auth/session` says who is signed in (with the CSRF token), and
 * `/console/auth/logout` ends it. Nothing of a code, token or cookie is logged; a failure is logged by its kind.
 */
@Controller('console/auth')
export class ConsoleAuthHttpController {
  private readonly logger = new Logger('console');

  constructor(
    private readonly oidc: OidcSignIn,
    private readonly sessions: ConsoleSessions,
    private readonly limiter: SignInLimiter,
  ) {}

  /**
   * The callback's answer: a page of this origin that moves on to the console. A redirect would carry on the
   * identity provider's cross-site navigation, on which the SameSite=Strict session cookie is not sent.
   */
  private handOver(res: Response, location: string): void {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Security-Policy', "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.status(200).send(
      `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${location}">` +
        `<title>OpenECM console</title></head><body><p><a href="${location}">Continue to the console</a></p></body></html>\n`,
    );
  }

  private failed(res: Response, reason: ConsoleSignInFailure): void {
    this.handOver(res, `/console?signin=${reason}`);
  }

  @Get('login')
  async login(@Query() query: Record<string, unknown>, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<ConsoleSignInStart> {
    const { returnTo } = parseOrThrow(ConsoleLoginQuery, { ...query }, 'query');
    res.setHeader('Cache-Control', 'no-store');
    if (!this.oidc.configured) throw new OpenEcmError('NOT_FOUND', 'sign-in to the console is not configured');
    // the sign-in budget of the source address, shared with the token endpoint (TOKEN_RATE_PER_ADDRESS)
    try {
      await this.limiter.admitAddress(req.ip ?? req.socket.remoteAddress ?? 'unknown');
    } catch (error) {
      if (!(error instanceof SignInRefused)) throw error;
      res.setHeader('Retry-After', String(error.retryAfterSeconds ?? 1));
      throw new OpenEcmError('RATE_LIMITED', error.message);
    }
    const start = await this.oidc.start();
    await this.sessions.beginSignIn(res, start.state, { codeVerifier: start.codeVerifier, nonce: start.nonce, returnTo: returnTo ?? '/console' });
    return { authorizationUrl: start.url };
  }

  @Get('callback')
  async callback(@Query() query: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const answer = parseOrThrow(ConsoleCallbackQuery, { ...query }, 'query');
    if (!this.oidc.configured) throw new OpenEcmError('NOT_FOUND', 'sign-in to the console is not configured');
    const pending = await this.sessions.takeSignIn(req, res, answer.state);
    if (answer.error) {
      this.logger.warn({ event: 'console.sign-in.failed', reason: 'refused', error: answer.error, msg: 'the identity provider refused the sign-in' });
      return this.failed(res, 'refused');
    }
    if (!pending || !answer.state) {
      this.logger.warn({ event: 'console.sign-in.failed', reason: 'expired', msg: 'a callback without a sign-in of this browser under way' });
      return this.failed(res, 'expired');
    }
    let person;
    try {
      person = await this.oidc.finish(answer as Record<string, string>, { ...pending, state: answer.state });
    } catch (error) {
      if (error instanceof OpenEcmError) throw error;
      // openid-client's errors name what failed (a check, an answer), never the code or a token
      const code = (error as { code?: unknown }).code;
      this.logger.warn({ event: 'console.sign-in.failed', reason: 'failed', err: error instanceof Error ? error.name : typeof error, code: typeof code === 'string' ? code : undefined, msg: 'the sign-in could not be completed' });
      return this.failed(res, 'failed');
    }
    if (person.roles.length === 0) {
      this.logger.warn({ event: 'console.sign-in.failed', reason: 'no-role', subject: person.subject, msg: 'the role map gives this person no console role' });
      return this.failed(res, 'no-role');
    }
    await this.sessions.start(res, person);
    this.logger.log({ event: 'console.sign-in', subject: person.subject, roles: person.roles, msg: 'signed in to the console' });
    this.handOver(res, pending.returnTo);
  }

  @Get('session')
  async session(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<ConsoleSession> {
    res.setHeader('Cache-Control', 'no-store');
    const found = await this.sessions.resolve(req);
    return {
      configured: this.oidc.configured,
      signedIn: found !== undefined,
      person: found?.person ?? null,
      csrfToken: found?.session.csrfToken ?? null,
      expiresAt: found ? new Date(found.session.expiresAt).toISOString() : null,
    };
  }

  @Post('logout')
  @HttpCode(200)
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<ConsoleSignedOut> {
    res.setHeader('Cache-Control', 'no-store');
    const found = await this.sessions.resolve(req);
    if (!found) throw new OpenEcmError('UNAUTHENTICATED', 'no console session to end');
    this.sessions.checkCsrf(req, found.session);
    await this.sessions.end(req, res);
    this.logger.log({ event: 'console.sign-out', subject: found.session.subject, msg: 'signed out of the console' });
    return { signedOut: true, endSessionUrl: await this.oidc.endSessionUrl(found.session.idToken, this.oidc.consoleUrl()) };
  }
}
