import { Controller } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Handles } from '@openecm/messaging';
import { CredentialQueue } from '../exclusive/credential-queue.service';
import { LeaseService } from '../leases/lease.service';
import { ApprovalsService } from './approvals.service';

@Controller()
export class ApprovalsNatsController {
  constructor(
    private readonly approvals: ApprovalsService,
    private readonly leases: LeaseService,
    private readonly queue: CredentialQueue,
  ) {}

  @Handles('policy.approval.list.v1')
  async list(req: ParsedRequestOf<'policy.approval.list.v1'>): Promise<ReplyOf<'policy.approval.list.v1'>> {
    return { approvals: await this.approvals.list(req) };
  }

  @Handles('policy.approval.get.v1')
  get(req: ParsedRequestOf<'policy.approval.get.v1'>): Promise<ReplyOf<'policy.approval.get.v1'>> {
    return this.approvals.get(req.approvalId, req.owner);
  }

  @Handles('policy.approval.decide.v1')
  decide(req: ParsedRequestOf<'policy.approval.decide.v1'>): Promise<ReplyOf<'policy.approval.decide.v1'>> {
    return this.approvals.decide(req);
  }

  @Handles('policy.approval.revoke.v1')
  revoke(req: ParsedRequestOf<'policy.approval.revoke.v1'>): Promise<ReplyOf<'policy.approval.revoke.v1'>> {
    return this.leases.revokeApproval(req.approvalId, req.reason, req.by);
  }

  @Handles('policy.lease.revoke.v1')
  revokeLease(req: ParsedRequestOf<'policy.lease.revoke.v1'>): Promise<ReplyOf<'policy.lease.revoke.v1'>> {
    return this.leases.revoke(req.leaseId, req.reason, req.by);
  }

  @Handles('policy.queue.get.v1')
  queuePlace(req: ParsedRequestOf<'policy.queue.get.v1'>): Promise<ReplyOf<'policy.queue.get.v1'>> {
    return this.queue.view(req.queueId);
  }
}
