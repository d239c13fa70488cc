import { Controller, Get, Query } from '@nestjs/common';
import { LeaseListQuery, parseOrThrow, type ReplyOf } from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import { Authorize } from '../oauth/api-auth.guard';

/** Every user's leases, so an operator's view (admin), unlike one lease by its id. */
@Controller('api/v1/leases')
@Authorize('admin')
export class LeaseListHttpController {
  constructor(private readonly bus: Bus) {}

  @Get()
  list(@Query() query: Record<string, unknown>): Promise<ReplyOf<'policy.lease.list.v1'>> {
    return this.bus.request('policy.lease.list.v1', parseOrThrow(LeaseListQuery, { ...query }, 'query'));
  }
}
