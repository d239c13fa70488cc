import { Controller, Logger } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Handles } from '@openecm/messaging';
import { currentTraceId } from '@openecm/telemetry';
import { randomUUID } from 'node:crypto';
import { LeaseEvents } from '../events/lease-events';
import { OffersService } from './offers.service';

@Controller()
export class OffersNatsController {
  private readonly logger = new Logger(OffersNatsController.name);

  constructor(
    private readonly offers: OffersService,
    private readonly events: LeaseEvents,
  ) {}

  /**
   * The list's last step, so it also reports what was listed (names and vaults only) for session reporting. A list
   * is the hot path: the answer does not wait for JetStream's acknowledgement, and a lost report costs a report
   * line, never a list (the audit trail has the list either way).
   */
  @Handles('policy.offers.record.v1')
  async record(req: ParsedRequestOf<'policy.offers.record.v1'>): Promise<ReplyOf<'policy.offers.record.v1'>> {
    const credentials = await this.offers.record(req.user, req.endpoint, req.credentials);
    const traceId = currentTraceId();
    this.events
      .publish('policy.credentials.listed.v1', {
        eventId: randomUUID(),
        user: req.user,
        endpoint: req.endpoint,
        ...(req.sessionId ? { sessionId: req.sessionId } : {}),
        credentials: credentials.map((c) => ({ name: c.name, vault: c.vault })),
        at: new Date().toISOString(),
        ...(traceId ? { traceId } : {}),
      })
      .catch((error: Error) => this.logger.warn({ msg: 'credentials listed event not published', err: error.name }));
    return { credentials };
  }
}
