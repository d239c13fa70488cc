import { Body, Controller, Header, Headers, HttpCode, Post, Req, UseFilters } from '@nestjs/common';
import { OpenEcmError, type TokenResponse } from '@openecm/contracts';
import type { Request } from 'express';
import { ApiAccountsService } from '../accounts/api-accounts.service';
import { OAuthError } from './oauth-error';
import { OAuthErrorFilter } from './oauth-error.filter';
import { SignInEvents, type SignInFailureReason } from './sign-in-events';
import { SignInLimiter, SignInRefused } from './sign-in-limiter';
import { clientCredentialsOf, parseTokenRequest } from './token-request';
import { TokenService } from './token.service';

/** OAuth 2.0 client credentials grant (RFC 6749 4.4), the way the appliance signs in. */
@Controller('oauth2')
@UseFilters(OAuthErrorFilter)
export class OAuthHttpController {
  constructor(
    private readonly accounts: ApiAccountsService,
    private readonly tokens: TokenService,
    private readonly limiter: SignInLimiter,
    private readonly events: SignInEvents,
  ) {}

  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async token(
    @Req() req: Request,
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
  ): Promise<TokenResponse> {
    // with GATEWAY_TRUSTED_PROXIES unset, Express leaves X-Forwarded-For aside and this is the peer's address
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    let clientId: string | null = null;
    try {
      await this.limiter.admitAddress(address);
      const candidates = clientCredentialsOf(authorization, parseTokenRequest(body));
      clientId = candidates[0]?.clientId ?? null;
      const ids = [...new Set(candidates.map((c) => c.clientId))];
      await this.limiter.admitClients(ids);
      const account = await this.accounts.authenticate(candidates);
      if (!account) {
        await this.limiter.failed(address, ids);
        throw OAuthError.invalidClient();
      }
      await this.limiter.succeeded(ids);
      const issued = await this.tokens.issue(account.id);
      return { access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn };
    } catch (error) {
      await this.events.failed({ clientId, address, reason: failureReason(error, clientId) });
      throw error;
    }
  }
}

function failureReason(error: unknown, clientId: string | null): SignInFailureReason {
  if (error instanceof SignInRefused) return error.refusal;
  if (!(error instanceof OpenEcmError)) return 'error';
  if (error.code === 'UNAUTHENTICATED') return clientId === null ? 'missing-credentials' : 'invalid-credentials';
  return error.code === 'VALIDATION_FAILED' ? 'invalid-request' : 'error';
}
