import { Controller } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Handles } from '@openecm/messaging';
import { judgeBatch } from '../ingest/appliance-event.mapping';
import { SessionEventsService } from '../sessions/session-events.service';
import { ReportsService } from './reports.service';

@Controller()
export class ReportsNatsController {
  constructor(
    private readonly reports: ReportsService,
    private readonly sessions: SessionEventsService,
  ) {}

  @Handles('reporting.summary.get.v1')
  summary(req: ParsedRequestOf<'reporting.summary.get.v1'>): Promise<ReplyOf<'reporting.summary.get.v1'>> {
    return this.reports.summary(req);
  }

  @Handles('reporting.sessions.query.v1')
  sessionGrid(req: ParsedRequestOf<'reporting.sessions.query.v1'>): Promise<ReplyOf<'reporting.sessions.query.v1'>> {
    return this.reports.sessions(req);
  }

  @Handles('reporting.events.query.v1')
  eventGrid(req: ParsedRequestOf<'reporting.events.query.v1'>): Promise<ReplyOf<'reporting.events.query.v1'>> {
    return this.reports.events(req);
  }

  @Handles('reporting.session.get.v1')
  session(req: ParsedRequestOf<'reporting.session.get.v1'>): Promise<ReplyOf<'reporting.session.get.v1'>> {
    return this.reports.session(req.id);
  }

  /** The good events of the slice are stored in one transaction; the bad ones answered by their index. */
  @Handles('reporting.events.ingest.v1')
  async ingest(req: ParsedRequestOf<'reporting.events.ingest.v1'>): Promise<ReplyOf<'reporting.events.ingest.v1'>> {
    const { records, rejected } = judgeBatch(req.events, req.offset);
    const { stored, duplicates } = await this.sessions.recordMany(records);
    return { stored, duplicates, rejected };
  }
}
