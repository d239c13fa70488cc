import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import {
  EVENT_CSV_COLUMNS,
  EventsQuery,
  REPORT_EXPORT_PAGE,
  SESSION_CSV_COLUMNS,
  SessionPath,
  SessionsQuery,
  SummaryQuery,
  parseOrThrow,
  type EventPage,
  type ReportSummary,
  type SessionDetail,
  type SessionPage,
} from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import type { Request, Response } from 'express';
import { Authorize } from '../oauth/api-auth.guard';
import { streamCsv } from './csv-export';

const wantsCsv = (req: Request) => req.accepts(['application/json', 'text/csv']) === 'text/csv';
/** An export page is up to REPORT_EXPORT_PAGE rows, which a filter no index serves may take longer to find. */
const EXPORT_PAGE_TIMEOUT_MS = 30_000;

/** The dashboard's reads: validated here, answered by session-reporting. */
@Controller('api/v1/reports')
@Authorize('reporting')
export class ReportsHttpController {
  constructor(private readonly bus: Bus) {}

  @Get('summary')
  summary(@Query() query: unknown): Promise<ReportSummary> {
    return this.bus.request('reporting.summary.get.v1', parseOrThrow(SummaryQuery, query, 'query'));
  }

  /**
   * One page as JSON, or with `Accept: text/csv` every matching row, streamed a keyset page at a time. The answer is
   * written here in both cases: a streamed one must not be answered again by Nest once it ended.
   */
  @Get('sessions')
  async sessions(@Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const parsed = parseOrThrow(SessionsQuery, query, 'query');
    res.vary('Accept');
    if (!wantsCsv(req)) {
      res.json(await this.bus.request('reporting.sessions.query.v1', parsed) satisfies SessionPage);
      return;
    }
    await streamCsv(res, 'sessions', SESSION_CSV_COLUMNS, (cursor) =>
      this.bus.request('reporting.sessions.query.v1', { ...parsed, limit: REPORT_EXPORT_PAGE, cursor: cursor ?? undefined }, { timeoutMs: EXPORT_PAGE_TIMEOUT_MS }),
    );
  }

  @Get('events')
  async events(@Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const parsed = parseOrThrow(EventsQuery, query, 'query');
    res.vary('Accept');
    if (!wantsCsv(req)) {
      res.json(await this.bus.request('reporting.events.query.v1', parsed) satisfies EventPage);
      return;
    }
    await streamCsv(res, 'events', EVENT_CSV_COLUMNS, (cursor) =>
      this.bus.request('reporting.events.query.v1', { ...parsed, limit: REPORT_EXPORT_PAGE, cursor: cursor ?? undefined }, { timeoutMs: EXPORT_PAGE_TIMEOUT_MS }),
    );
  }

  @Get('sessions/:id')
  session(@Param() params: unknown): Promise<SessionDetail> {
    return this.bus.request('reporting.session.get.v1', parseOrThrow(SessionPath, params, 'path'));
  }
}
