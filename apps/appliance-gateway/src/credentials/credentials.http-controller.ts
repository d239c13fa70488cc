import { Body, Controller, Get, Header, Param, Post, Query, Res } from '@nestjs/common';
import { CredentialsQuery, InjectionRequest, QueuePath, parseOrThrow, type CredentialList, type Injection, type PendingInjection, type QueueView } from '@openecm/contracts';
import type { Response } from 'express';
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
  async inject(@Body() body: unknown, @Principal() principal: ApiPrincipal, @Res({ passthrough: true }) res: Response): Promise<Injection | PendingInjection> {
    const request = parseOrThrow(InjectionRequest, body, 'request body');
    // the lease belongs to the account that opened it: only it (or an admin) reads and releases it
    const answer = await openLeaseSealed(this.bus, { ...request, owner: principal.clientId }, (leaseId) =>
      this.bus.request('policy.lease.release.v1', { leaseId, owner: principal.clientId }),
    );
    // 202: an approver must act; the appliance polls the approval or repeats this injection
    res.status('approvalId' in answer ? 202 : 201);
    return answer;
  }

  /** A place in the queue of an exclusive credential (from a 409 CREDENTIAL_IN_USE). */
  @Get('queue/:queueId')
  queuePlace(@Param('queueId') queueId: string): Promise<QueueView> {
    return this.bus.request('policy.queue.get.v1', parseOrThrow(QueuePath, { queueId }, 'path'));
  }
}
