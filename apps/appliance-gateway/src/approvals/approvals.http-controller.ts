import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApprovalDecisionRequest, ApprovalPath, ApprovalsQuery, LeasePath, OpenEcmError, RevokeRequest, parseOrThrow, type ReplyOf } from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import { Authorize, Principal } from '../oauth/api-auth.guard';
import type { ApiPrincipal } from '../oauth/permission';

/**
 * Approvers at work: an approval integration holding `approvals` (a ticketing system, a chat bot), or a person
 * with the console's approver role, who decides as themselves. The appliance reads one request to poll it.
 */
@Controller('api/v1/approvals')
export class ApprovalsHttpController {
  constructor(private readonly bus: Bus) {}

  @Get()
  @Authorize('approvals')
  list(@Query() query: unknown): Promise<ReplyOf<'policy.approval.list.v1'>> {
    return this.bus.request('policy.approval.list.v1', parseOrThrow(ApprovalsQuery, query, 'query'));
  }

  @Get(':approvalId')
  @Authorize('approvals', 'credentials')
  get(@Param('approvalId') approvalId: string, @Principal() principal: ApiPrincipal): Promise<ReplyOf<'policy.approval.get.v1'>> {
    const path = parseOrThrow(ApprovalPath, { approvalId }, 'path');
    // an appliance reads the requests its own injections made; an approver any
    const owner = principal.permissions.includes('approvals') ? undefined : principal.clientId;
    return this.bus.request('policy.approval.get.v1', { ...path, ...(owner ? { owner } : {}) });
  }

  @Post(':approvalId/decision')
  @HttpCode(200)
  @Authorize('approvals')
  decide(@Param('approvalId') approvalId: string, @Body() body: unknown, @Principal() principal: ApiPrincipal): Promise<ReplyOf<'policy.approval.decide.v1'>> {
    const path = parseOrThrow(ApprovalPath, { approvalId }, 'path');
    const decision = parseOrThrow(ApprovalDecisionRequest, body, 'request body');
    const person = principal.person;
    if (person && decision.approver.toLowerCase() !== person.name.toLowerCase()) {
      throw new OpenEcmError('VALIDATION_FAILED', 'a person signed in to the console decides as themselves', [{ field: 'approver', message: `must be "${person.name}"` }]);
    }
    return this.bus.request('policy.approval.decide.v1', { ...decision, approvalId: path.approvalId });
  }
}

/** Revocation: the lease released and rotated at once, the appliance session ended. */
@Controller('api/v1/admin')
@Authorize('admin')
export class RevocationHttpController {
  constructor(private readonly bus: Bus) {}

  @Post('leases/:leaseId/revoke')
  @HttpCode(200)
  revokeLease(@Param('leaseId') leaseId: string, @Body() body: unknown, @Principal() principal: ApiPrincipal): Promise<ReplyOf<'policy.lease.revoke.v1'>> {
    const path = parseOrThrow(LeasePath, { leaseId }, 'path');
    const { reason } = parseOrThrow(RevokeRequest, body, 'request body');
    return this.bus.request('policy.lease.revoke.v1', { leaseId: path.leaseId, reason, by: principal.clientId });
  }

  @Post('approvals/:approvalId/revoke')
  @HttpCode(200)
  revokeApproval(@Param('approvalId') approvalId: string, @Body() body: unknown, @Principal() principal: ApiPrincipal): Promise<ReplyOf<'policy.approval.revoke.v1'>> {
    const path = parseOrThrow(ApprovalPath, { approvalId }, 'path');
    const { reason } = parseOrThrow(RevokeRequest, body, 'request body');
    return this.bus.request('policy.approval.revoke.v1', { approvalId: path.approvalId, reason, by: principal.clientId });
  }
}
