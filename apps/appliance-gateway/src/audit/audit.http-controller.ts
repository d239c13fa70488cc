import { Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import { AuditExportQuery, AuditQuery, parseOrThrow, type AuditPage, type AuditVerification } from '@openecm/contracts';
import type { Response } from 'express';
import { once } from 'node:events';
import { Authorize } from '../oauth/api-auth.guard';
import { AuditTrail } from './audit-trail.service';

@Controller('api/v1/admin/audit')
@Authorize('admin')
export class AuditHttpController {
  constructor(private readonly trail: AuditTrail) {}

  @Get()
  list(@Query() query: unknown): Promise<AuditPage> {
    return this.trail.query(parseOrThrow(AuditQuery, query, 'query'));
  }

  /** Streamed a batch at a time, so an export of any size holds one batch in memory. */
  @Get('export')
  async export(@Query() query: unknown, @Res() res: Response): Promise<void> {
    const range = parseOrThrow(AuditExportQuery, query, 'query');
    const records = this.trail.export(range);
    // the first batch is read before the head is sent, so an unreachable database is still a problem answer
    let first = await records.next();
    res.status(200).setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    try {
      while (!first.done) {
        if (!res.write(`${JSON.stringify(first.value)}\n`)) await once(res, 'drain');
        first = await records.next();
      }
      res.end();
    } catch {
      res.destroy();
    }
  }

  @Post('verify')
  @HttpCode(200)
  verify(): Promise<AuditVerification> {
    return this.trail.verify();
  }
}
