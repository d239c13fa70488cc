import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { SessionEventBatch, parseOrThrow, type IngestResult } from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import { Authorize } from '../oauth/api-auth.guard';

/** Each NATS request carries at most this much of a batch, well under the server's max_payload (1 MiB by default). */
export const INGEST_SLICE_BYTES = 256 * 1024;
/** The body of a batch of 1,000 events; other routes keep the gateway's smaller limit. */
export const INGEST_BODY_LIMIT_BYTES = 4 * 1024 * 1024;
export const SESSION_EVENTS_PATH = '/api/v1/sessions/events';

/** Cuts a batch into slices of at most INGEST_SLICE_BYTES (an event larger than that travels alone). */
export function slices(events: readonly unknown[]): Array<{ offset: number; events: unknown[] }> {
  const out: Array<{ offset: number; events: unknown[] }> = [];
  let current: { offset: number; events: unknown[] } = { offset: 0, events: [] };
  let bytes = 0;
  events.forEach((event, i) => {
    const size = Buffer.byteLength(JSON.stringify(event) ?? 'null');
    if (current.events.length > 0 && bytes + size > INGEST_SLICE_BYTES) {
      out.push(current);
      current = { offset: i, events: [] };
      bytes = 0;
    }
    current.events.push(event);
    bytes += size;
  });
  if (current.events.length > 0) out.push(current);
  return out;
}

/** The appliance's session events, for reporting. */
@Controller('api/v1/sessions')
@Authorize('reporting')
export class SessionEventsHttpController {
  constructor(private readonly bus: Bus) {}

  /** A malformed event is answered by its index, the others stored; only a malformed body as a whole is a 400. */
  @Post('events')
  @HttpCode(200)
  async ingest(@Body() body: unknown): Promise<IngestResult> {
    const { events } = parseOrThrow(SessionEventBatch, body, 'request body');
    const results = await Promise.all(slices(events).map((slice) => this.bus.request('reporting.events.ingest.v1', slice)));
    return {
      stored: results.reduce((n, r) => n + r.stored, 0),
      duplicates: results.reduce((n, r) => n + r.duplicates, 0),
      rejected: results.flatMap((r) => r.rejected).sort((a, b) => a.index - b.index),
    };
  }
}
