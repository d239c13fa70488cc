import { Controller } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Handles } from '@openecm/messaging';
import { LeaseService } from './lease.service';

@Controller()
export class LeaseNatsController {
  constructor(private readonly leases: LeaseService) {}

  @Handles('policy.lease.open.v1')
  open(req: ParsedRequestOf<'policy.lease.open.v1'>): Promise<ReplyOf<'policy.lease.open.v1'>> {
    return this.leases.open(req);
  }

  @Handles('policy.lease.release.v1')
  release(req: ParsedRequestOf<'policy.lease.release.v1'>): Promise<ReplyOf<'policy.lease.release.v1'>> {
    return this.leases.release(req.leaseId, req.owner);
  }

  @Handles('policy.lease.list.v1')
  list(req: ParsedRequestOf<'policy.lease.list.v1'>): Promise<ReplyOf<'policy.lease.list.v1'>> {
    return this.leases.list(req);
  }

  @Handles('policy.lease.get.v1')
  get(req: ParsedRequestOf<'policy.lease.get.v1'>): Promise<ReplyOf<'policy.lease.get.v1'>> {
    return this.leases.get(req.leaseId, req.owner);
  }
}
