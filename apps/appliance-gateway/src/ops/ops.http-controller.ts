import { Body, Controller, Get, Put, Query } from '@nestjs/common';
import {
  DiagnosticsQuery,
  LogLevelRequest,
  OpenEcmError,
  parseOrThrow,
  type DiagnosticsReport,
  type InstanceList,
  type LogLevelAnswer,
} from '@openecm/contracts';
import { Broadcaster } from '@openecm/messaging';
import { Authorize } from '../oauth/api-auth.guard';
import { DiagnosticsService } from './diagnostics.service';

/** Every instance answers within a few milliseconds; gathering stops once they have gone quiet. */
const GATHER = { maxWaitMs: 3000, quietMs: 400 };

@Controller('api/v1/admin')
@Authorize('admin')
export class OpsHttpController {
  constructor(
    private readonly broadcaster: Broadcaster,
    private readonly diagnostics: DiagnosticsService,
  ) {}

  /** Every running instance of every service (or of one) switches now, and returns to its LOG_LEVEL after the time given. */
  @Put('log-level')
  async setLogLevel(@Body() body: unknown): Promise<LogLevelAnswer> {
    const request = parseOrThrow(LogLevelRequest, body, 'request body');
    const applied = await this.broadcaster.gather('ops.log-level.set.v1', request, GATHER);
    if (request.service && applied.length === 0) {
      throw new OpenEcmError('SERVICE_UNAVAILABLE', `no instance of ${request.service} answered`);
    }
    applied.sort((a, b) => a.service.localeCompare(b.service) || a.instance.localeCompare(b.instance));
    return { level: request.level, service: request.service ?? null, revertAfterSeconds: request.revertAfterSeconds, applied };
  }

  @Get('instances')
  async instances(): Promise<InstanceList> {
    const instances = await this.broadcaster.gather('ops.instance.ping.v1', {}, GATHER);
    instances.sort((a, b) => a.service.localeCompare(b.service) || a.instance.localeCompare(b.instance));
    return { instances };
  }

  /** The troubleshooting walk; with a user and an endpoint, each vault's Test Settings too. */
  @Get('diagnostics')
  run(@Query() query: Record<string, unknown>): Promise<DiagnosticsReport> {
    return this.diagnostics.run(parseOrThrow(DiagnosticsQuery, { ...query }, 'query'));
  }
}
