import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { LeasePath, parseOrThrow, type ReplyOf } from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import { Authorize } from '../oauth/api-auth.guard';

@Controller('api/v1/leases')
@Authorize('credentials')
export class LeasesHttpController {
  constructor(private readonly bus: Bus) {}

  /** Idempotent: releasing twice answers the first release. */
  @Post(':leaseId/release')
  @HttpCode(200)
  async release(@Param('leaseId') leaseId: string): Promise<ReplyOf<'policy.lease.release.v1'>> {
    return this.bus.request('policy.lease.release.v1', parseOrThrow(LeasePath, { leaseId }, 'path'));
  }

  @Get(':leaseId')
  async get(@Param('leaseId') leaseId: string): Promise<ReplyOf<'policy.lease.get.v1'>> {
    return this.bus.request('policy.lease.get.v1', parseOrThrow(LeasePath, { leaseId }, 'path'));
  }
}
