import { Body, Controller, Header, Headers, HttpCode, Post, UseFilters } from '@nestjs/common';
import type { TokenResponse } from '@openecm/contracts';
import { ApiAccountsService } from '../accounts/api-accounts.service';
import { OAuthError } from './oauth-error';
import { OAuthErrorFilter } from './oauth-error.filter';
import { clientCredentialsOf, parseTokenRequest } from './token-request';
import { TokenService } from './token.service';

/** OAuth 2.0 client credentials grant (RFC 6749 4.4), the way the appliance signs in. */
@Controller('oauth2')
@UseFilters(OAuthErrorFilter)
export class OAuthHttpController {
  constructor(
    private readonly accounts: ApiAccountsService,
    private readonly tokens: TokenService,
  ) {}

  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async token(@Headers('authorization') authorization: string | undefined, @Body() body: unknown): Promise<TokenResponse> {
    const request = parseTokenRequest(body);
    const account = await this.accounts.authenticate(clientCredentialsOf(authorization, request));
    if (!account) throw OAuthError.invalidClient();
    const issued = await this.tokens.issue(account.id);
    return { access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn };
  }
}
