import { Controller, Logger } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Bus, Handles } from '@openecm/messaging';
import { currentTraceId } from '@openecm/telemetry';
import { randomUUID } from 'node:crypto';
import { AccessService } from '../access/access.service';
import { LeaseEvents } from '../events/lease-events';
import { decide } from '../policies/policy-engine';
import { OffersService } from './offers.service';

@Controller()
export class OffersNatsController {
  private readonly logger = new Logger(OffersNatsController.name);

  constructor(
    private readonly access: AccessService,
    private readonly offers: OffersService,
    private readonly events: LeaseEvents,
    private readonly bus: Bus,
  ) {}

  /**
   * A list, whole: the decision first (a user who may not request anything causes no vault traffic), then the
   * vaults, then the ids bound to this user and endpoint. A list that names its session is also reported
   * (names and vaults only) for session reporting, which files it under that session; one that names none is
   * in the audit trail alone, as there is no session to file it under. A list is the hot path, so the answer
   * does not wait for JetStream's acknowledgement, and a lost report costs a report line, never a list.
   */
  @Handles('policy.credentials.list.v1')
  async list(req: ParsedRequestOf<'policy.credentials.list.v1'>): Promise<ReplyOf<'policy.credentials.list.v1'>> {
    const at = new Date();
    const held = await this.access.mayRequest(req.user, req.endpoint, at);
    const listed = await this.bus.request('vault.credentials.list.v1', {
      user: req.user,
      endpoint: req.endpoint,
      ...(req.protocol ? { protocol: req.protocol } : {}),
    });
    // only what some policy lets the user request now: in OAuth mode the vault lists all it manages
    const granted = listed.credentials.flatMap((c) => {
      const grant = decide(held, { vault: c.vault, name: c.name, endpoint: req.endpoint }, at);
      return grant ? [{ credential: c, grant }] : [];
    });
    const ids = await this.offers.record(req.user, req.endpoint, granted.map((g) => g.credential));
    const credentials = ids.map((offer, i) => {
      const { grant } = granted[i] as (typeof granted)[number];
      return { ...offer, approval: grant.mode, policy: grant.policy.name };
    });
    if (req.sessionId) {
      const traceId = currentTraceId();
      this.events
        .publish('policy.credentials.listed.v1', {
          eventId: randomUUID(),
          user: req.user,
          endpoint: req.endpoint,
          sessionId: req.sessionId,
          credentials: credentials.map((c) => ({ name: c.name, vault: c.vault })),
          at: new Date().toISOString(),
          ...(traceId ? { traceId } : {}),
        })
        .catch((error: Error) => this.logger.warn({ msg: 'credentials listed event not published', err: error.name }));
    }
    return { credentials, pending: listed.pending };
  }
}
