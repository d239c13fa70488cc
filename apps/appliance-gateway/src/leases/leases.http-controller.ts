import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { LeasePath, parseOrThrow, type ReplyOf } from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import { Authorize, Principal } from '../oauth/api-auth.guard';
import { leaseOwnerFilter, type ApiPrincipal } from '../oauth/permission';

@Controller('api/v1/leases')
@Authorize('credentials')
export class LeasesHttpController {
  constructor(private readonly bus: Bus) {}

  /** Idempotent: releasing twice answers the first release. */
  @Post(':leaseId/release')
  @HttpCode(200)
  async release(@Param('leaseId') leaseId: string, @Principal() principal: ApiPrincipal): Promise<ReplyOf<'policy.lease.release.v1'>> {
    const path = parseOrThrow(LeasePath, { leaseId }, 'path');
    return this.bus.request('policy.lease.release.v1', { ...path, owner: leaseOwnerFilter(principal) });
  }

  @Get(':leaseId')
  async get(@Param('leaseId') leaseId: string, @Principal() principal: ApiPrincipal): Promise<ReplyOf<'policy.lease.get.v1'>> {
    const path = parseOrThrow(LeasePath, { leaseId }, 'path');
    return this.bus.request('policy.lease.get.v1', { ...path, owner: leaseOwnerFilter(principal) });
  }
}
