import { Body, Controller, Get, Header, Post, Query } from '@nestjs/common';
import { CredentialsQuery, InjectionRequest, parseOrThrow, type CredentialList, type Injection } from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import { Authorize, Principal } from '../oauth/api-auth.guard';
import type { ApiPrincipal } from '../oauth/permission';
import { openLeaseSealed } from './sealed-injection';

@Controller('api/v1')
@Authorize('credentials')
export class CredentialsHttpController {
  constructor(private readonly bus: Bus) {}

  /**
   * Names only, never a secret: one call to policy-approval, which decides (a user who may not request anything
   * causes no vault traffic), asks the vaults and issues ids bound to this user and endpoint.
   */
  @Get('credentials')
  list(@Query() query: unknown): Promise<CredentialList> {
    return this.bus.request('policy.credentials.list.v1', parseOrThrow(CredentialsQuery, query, 'query'));
  }

  /** The one answer that carries a secret: never stored by a cache on the way. */
  @Post('injections')
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async inject(@Body() body: unknown, @Principal() principal: ApiPrincipal): Promise<Injection> {
    const request = parseOrThrow(InjectionRequest, body, 'request body');
    // the lease belongs to the account that opened it: only it (or an admin) reads and releases it
    return openLeaseSealed(this.bus, { ...request, owner: principal.clientId }, (leaseId) =>
      this.bus.request('policy.lease.release.v1', { leaseId, owner: principal.clientId }),
    );
  }
}
