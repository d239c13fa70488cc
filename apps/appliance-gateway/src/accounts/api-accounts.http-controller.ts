import { Body, Controller, Delete, Get, Header, Param, Post } from '@nestjs/common';
import { ApiAccountPath, ApiAccountRequest, parseOrThrow } from '@openecm/contracts';
import { Authorize } from '../oauth/api-auth.guard';
import { TokenService } from '../oauth/token.service';
import { ApiAccountsService, type ApiAccountView } from './api-accounts.service';

@Controller('api/v1/admin/api-accounts')
@Authorize('admin')
export class ApiAccountsHttpController {
  constructor(
    private readonly accounts: ApiAccountsService,
    private readonly tokens: TokenService,
  ) {}

  /** The generated secret is in this answer only; the broker keeps a hash of it. */
  @Post()
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async create(@Body() body: unknown): Promise<ApiAccountView & { clientSecret: string }> {
    const request = parseOrThrow(ApiAccountRequest, body, 'request body');
    const { account, clientSecret } = await this.accounts.create(request.clientId, request.permissions);
    return { ...account, clientSecret };
  }

  @Get()
  async list(): Promise<{ accounts: ApiAccountView[] }> {
    return { accounts: await this.accounts.list() };
  }

  @Delete(':clientId')
  async remove(@Param('clientId') clientId: string): Promise<{ clientId: string; deleted: true }> {
    const path = parseOrThrow(ApiAccountPath, { clientId }, 'path');
    const accountId = await this.accounts.delete(path.clientId);
    this.tokens.forgetAccount(accountId);
    return { clientId: path.clientId, deleted: true };
  }
}
