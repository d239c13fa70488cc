import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { SessionEventRecord } from './lease-event.mapping';
import { SessionEventDataEntity } from './session-event-data.entity';

export type RecordOutcome = 'recorded' | 'duplicate';

/** Writes session events into the BGSessions tables; recording the same fact twice stores it once. */
@Injectable()
export class SessionEventsService {
  constructor(private readonly dataSource: DataSource) {}

  async record(record: SessionEventRecord): Promise<RecordOutcome> {
    return this.dataSource.transaction(async (manager) => {
      // Events may arrive out of order (a failed one is redelivered later), so a session starts at its
      // earliest event, whichever came first.
      const [session] = await manager.query<Array<{ id: string }>>(
        `INSERT INTO "reporting"."session" ("lsid", "start_time") VALUES ($1, $2)
         ON CONFLICT ("lsid") DO UPDATE SET "start_time" = LEAST("session"."start_time", EXCLUDED."start_time")
         RETURNING "id"`,
        [record.sessionLsid, record.timestamp],
      );
      if (!session) throw new Error('session upsert returned no row');
      const [event] = await manager.query<Array<{ id: string }>>(
        `INSERT INTO "reporting"."session_event"
           ("session_id", "type", "performed_by_type", "performed_by", "destination", "timestamp", "event_key")
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT ("event_key") DO NOTHING
         RETURNING "id"`,
        [session.id, record.type, record.performedByType, record.performedBy, record.destination, record.timestamp, record.eventKey],
      );
      if (!event) return 'duplicate';
      if (record.data.length > 0) {
        await manager.insert(
          SessionEventDataEntity,
          record.data.map(({ name, value }) => ({ sessionEventId: event.id, name, value })),
        );
      }
      return 'recorded';
    });
  }
}
