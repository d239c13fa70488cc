import { Injectable } from '@nestjs/common';
import { OpenEcmError, type LeaseView, type ParsedRequestOf, type ReplyOf } from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import { currentTraceId } from '@openecm/telemetry';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AccessService } from '../access/access.service';
import { ApprovalsService, pending } from '../approvals/approvals.service';
import { CredentialQueue } from '../exclusive/credential-queue.service';
import { emergencyPolicy, type HeldPolicy } from '../policies/policy-engine';
import { LeaseEvents } from '../events/lease-events';
import { OffersService } from '../offers/offers.service';
import { ReleaseProducer } from '../release-queue/release.producer';
import { LeaseRepository, isExclusiveConflict, toView, type LeaseRow } from './lease.repository';

type OpenRequest = ParsedRequestOf<'policy.lease.open.v1'>;

/**
 * Injection and release. The lease row is written before the vault check-out, so a crash between the two
 * still leaves a row the reconciler checks in; the opened event is published before the secret is answered.
 */
@Injectable()
export class LeaseService {
  constructor(
    private readonly access: AccessService,
    private readonly offers: OffersService,
    private readonly leases: LeaseRepository,
    private readonly bus: Bus,
    private readonly events: LeaseEvents,
    private readonly producer: ReleaseProducer,
    private readonly approvals: ApprovalsService,
    private readonly queue: CredentialQueue,
  ) {}

  /**
   * The secret comes back sealed to the gateway's `sealTo` key and is passed on as it came: this service cannot read
   * it. A refused or failed injection is a fact too (policy.injection.failed.v1, its code only).
   */
  async open(req: OpenRequest): Promise<ReplyOf<'policy.lease.open.v1'>> {
    const seen: { credentialName: string | null; vault: string | null; leaseId: string | null } = { credentialName: null, vault: null, leaseId: null };
    try {
      return await this.openLease(req, seen);
    } catch (error) {
      const code = error instanceof OpenEcmError ? error.code : 'INTERNAL';
      const traceId = currentTraceId();
      // the answer must not wait for, nor fail by, the report of its failure
      void this.events
        .publish('policy.injection.failed.v1', {
          eventId: randomUUID(),
          user: req.user,
          endpoint: req.endpoint,
          sessionId: req.sessionId,
          ...seen,
          code,
          at: new Date().toISOString(),
          ...(traceId ? { traceId } : {}),
        })
        .catch(() => undefined);
      throw error;
    }
  }

  private async openLease(req: OpenRequest, seen: { credentialName: string | null; vault: string | null; leaseId: string | null }): Promise<ReplyOf<'policy.lease.open.v1'>> {
    // the offer and the user's policies are read at once; an offer that does not hold is the answer before a refusal
    const [resolved, policies] = await Promise.allSettled([this.offers.resolve(req.credentialId, req.user, req.endpoint), this.access.policiesOf(req.user, { fresh: true })]);
    if (resolved.status === 'rejected') throw resolved.reason;
    const offer = resolved.value;
    seen.credentialName = offer.name;
    seen.vault = offer.vault;
    if (policies.status === 'rejected') throw policies.reason;
    const held = policies.value;
    const at = new Date();
    const target = { vault: offer.vault, name: offer.name, endpoint: req.endpoint };
    const reason = req.reason ?? null;
    let policy: HeldPolicy;
    let approvalId: string | null = null;
    if (req.emergency) {
      if (!reason) throw new OpenEcmError('VALIDATION_FAILED', 'emergency access needs a reason', [{ field: 'reason', message: 'required with emergency: true' }]);
      const allowing = emergencyPolicy(held, target, at);
      if (!allowing) throw new OpenEcmError('ACCESS_DENIED', 'no access policy of the user allows emergency access to this credential');
      policy = allowing;
    } else {
      const grant = this.access.decide(held, target, at);
      policy = grant.policy;
      if (policy.definition.requireReason && !reason) {
        throw new OpenEcmError('VALIDATION_FAILED', `the access policy "${policy.name}" needs a reason for the injection`, [{ field: 'reason', message: 'required by the access policy' }]);
      }
      if (grant.mode === 'manual') {
        const latest = await this.approvals.latestFor(offer.id, req.user);
        if (!latest) return this.approvals.request({ offer, user: req.user, endpoint: req.endpoint, sessionId: req.sessionId, owner: req.owner, policy, reason });
        if (latest.status === 'pending') return pending(latest);
        if (latest.status === 'denied') {
          throw new OpenEcmError('APPROVAL_DENIED', 'an approver denied this request', undefined, { approvalId: latest.id });
        }
        approvalId = latest.id;
      }
    }
    const asker = { credentialKey: offer.credentialKey, user: req.user, endpoint: req.endpoint, vault: offer.vault, credentialName: offer.name };
    const exclusive = policy.definition.exclusive;
    if (exclusive) await this.queue.admit(asker);
    const leaseId = randomUUID();
    if (approvalId && !(await this.approvals.claim(approvalId, leaseId))) {
      throw new OpenEcmError('APPROVAL_REQUIRED', 'the approval was used by another injection at the same time; inject again to ask anew');
    }
    // the policy caps the connection's release duration; the vault is asked for the same
    const durationMinutes = Math.min(offer.releaseDurationMinutes, policy.definition.maxReleaseMinutes ?? Number.MAX_SAFE_INTEGER);
    let lease: LeaseRow;
    try {
      lease = await this.leases.insert({
        id: leaseId,
        offerId: offer.id,
        user: req.user,
        endpoint: req.endpoint,
        sessionId: req.sessionId,
        vault: offer.vault,
        credentialName: offer.name,
        username: offer.username,
        domain: offer.domain,
        rotate: offer.rotateAfterRelease,
        durationMinutes,
        owner: req.owner,
        policy: policy.name,
        approvalId,
        emergency: req.emergency === true,
        reason,
        exclusive,
        credentialKey: offer.credentialKey,
      });
    } catch (error) {
      if (approvalId) await this.approvals.unclaim(approvalId, leaseId);
      // another injection took the exclusive credential in between: this one queues after it
      if (isExclusiveConflict(error)) await this.queue.admit(asker);
      throw error;
    }
    seen.leaseId = lease.id;
    let checkout: ReplyOf<'vault.credentials.checkout.v1'>;
    try {
      checkout = await this.bus.request('vault.credentials.checkout.v1', {
        leaseId: lease.id,
        vault: offer.vault,
        ref: offer.ref,
        user: req.user,
        durationMinutes,
        reason: (reason ? `OpenECM session ${req.sessionId}: ${reason}` : `OpenECM session ${req.sessionId}`).slice(0, 256),
        sealTo: req.sealTo,
      });
    } catch (error) {
      const err = error instanceof OpenEcmError ? error : new OpenEcmError('INTERNAL', 'check-out failed');
      // Whatever the error, the vault may hold a request for this lease (a timeout, a crash of vault-adapters,
      // a refusal after the request was made): the release path checks it in; with nothing out it is a no-op.
      const failed = await this.leases.markCheckoutFailed(lease.id, err.code, err.message);
      if (failed) await this.events.publish('policy.lease.failed.v1', { ...eventBase(failed), code: err.code, message: err.message, phase: 'checkout' });
      await this.producer.scheduleOrLeave(lease.id, new Date());
      throw err;
    }
    // both before the answer: the audit fact, and the release that must follow even if nobody calls it
    await Promise.all([
      this.events.publish('policy.lease.opened.v1', {
        ...eventBase(lease),
        releaseAt: lease.release_at.toISOString(),
        policy: policy.name,
        ...(approvalId ? { approvalId } : {}),
        ...(lease.emergency ? { emergency: true } : {}),
      }),
      lease.emergency ? this.events.publish('policy.access.emergency.v1', { ...eventBase(lease), policy: policy.name, reason: reason ?? '' }) : undefined,
      this.producer.scheduleOrLeave(lease.id, lease.release_at),
    ]);
    return {
      leaseId: lease.id,
      username: checkout.username,
      domain: checkout.domain,
      secret: checkout.secret,
      releaseAt: lease.release_at.toISOString(),
    };
  }

  /**
   * Idempotent: releasing a released lease answers the first release again. `owner` null releases any
   * account's lease; another account's is not found.
   */
  async release(leaseId: string, owner: string | null): Promise<ReplyOf<'policy.lease.release.v1'>> {
    if (owner !== null && (await this.leases.find(leaseId))?.owner !== owner) throw new OpenEcmError('LEASE_NOT_FOUND', 'no such lease');
    const released = await this.leases.markReleased(leaseId, 'appliance');
    const lease = released ?? (await this.leases.find(leaseId));
    if (!lease) throw new OpenEcmError('LEASE_NOT_FOUND', 'no such lease');
    if (!lease.released_at) throw new OpenEcmError('LEASE_NOT_ACTIVE', `the lease is ${lease.state} and was never released`);
    if (released) {
      await this.events.publish('policy.lease.released.v1', { ...eventBase(released), releasedBy: 'appliance' });
    }
    if (lease.state === 'released') await this.producer.scheduleOrLeave(lease.id, new Date());
    return {
      leaseId: lease.id,
      releasedAt: lease.released_at.toISOString(),
      rotation: lease.rotate ? 'scheduled' : 'not-required',
    };
  }

  /**
   * Revocation: the lease is released and rotated at once, whatever its connection says, and
   * policy.lease.revoked.v1 tells the appliance side to end the session.
   */
  async revoke(leaseId: string, reason: string, by: string): Promise<ReplyOf<'policy.lease.revoke.v1'>> {
    const revoked = await this.leases.markRevoked(leaseId, reason);
    if (!revoked) {
      const lease = await this.leases.find(leaseId);
      if (!lease) throw new OpenEcmError('LEASE_NOT_FOUND', 'no such lease');
      throw new OpenEcmError('LEASE_NOT_ACTIVE', `the lease is ${lease.state} already`);
    }
    await Promise.all([
      this.events.publish('policy.lease.released.v1', { ...eventBase(revoked), releasedBy: 'revocation' }),
      this.events.publish('policy.lease.revoked.v1', { ...eventBase(revoked), reason, by, approvalId: revoked.approval_id }),
    ]);
    await this.producer.scheduleOrLeave(revoked.id, new Date());
    return { leaseId: revoked.id, revokedAt: (revoked.revoked_at as Date).toISOString(), rotation: 'scheduled' };
  }

  /** The approval can no longer be used, and a lease opened with it is revoked. */
  async revokeApproval(approvalId: string, reason: string, by: string): Promise<ReplyOf<'policy.approval.revoke.v1'>> {
    const approval = await this.approvals.revoke(approvalId, by);
    if (approval.lease_id) {
      await this.revoke(approval.lease_id, reason, by).catch((error: unknown) => {
        // a lease already released is being checked in and rotated anyway
        if (!(error instanceof OpenEcmError && error.code === 'LEASE_NOT_ACTIVE')) throw error;
      });
    }
    return { approvalId, status: 'revoked', leaseId: approval.lease_id };
  }

  async list(req: ParsedRequestOf<'policy.lease.list.v1'>): Promise<ReplyOf<'policy.lease.list.v1'>> {
    const { rows, last } = await this.leases.page({
      limit: req.limit,
      ...(req.state ? { state: req.state } : {}),
      ...(req.user ? { user: req.user } : {}),
      ...(req.cursor ? { after: decodeCursor(req.cursor) } : {}),
    });
    return { leases: rows.map(toView), nextCursor: rows.length === req.limit && last ? encodeCursor(last) : null };
  }

  /** `owner` null reads any account's lease; another account's is not found. */
  async get(leaseId: string, owner: string | null): Promise<LeaseView> {
    const lease = await this.leases.find(leaseId);
    if (!lease || (owner !== null && lease.owner !== owner)) throw new OpenEcmError('LEASE_NOT_FOUND', 'no such lease');
    return toView(lease);
  }
}

/** A page position only this service reads: opaque to callers, checked when it comes back. */
const Cursor = z.tuple([z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2}$/), z.string().uuid()]);

function encodeCursor(position: { openedAt: string; id: string }): string {
  return Buffer.from(JSON.stringify([position.openedAt, position.id])).toString('base64url');
}

function decodeCursor(cursor: string): { openedAt: string; id: string } {
  try {
    const [openedAt, id] = Cursor.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return { openedAt, id };
  } catch {
    throw new OpenEcmError('VALIDATION_FAILED', 'invalid cursor: use the nextCursor of a previous page', [{ field: 'cursor', message: 'not a cursor this service issued' }]);
  }
}

export function eventBase(l: LeaseRow) {
  const traceId = currentTraceId();
  return {
    ...(traceId ? { traceId } : {}),
    leaseId: l.id,
    user: l.user_name,
    endpoint: l.endpoint,
    sessionId: l.session_id,
    vault: l.vault,
    credentialName: l.credential_name,
    username: l.username,
    at: new Date().toISOString(),
  };
}
