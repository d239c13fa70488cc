import { Module } from '@nestjs/common';
import { MessagingModule } from '@openecm/messaging';
import { PersistenceModule } from '@openecm/persistence';
import { OpsModule } from '@openecm/service-kit';
import { CreateReportingTables1795391302481 } from './migrations/1795391302481-create-reporting-tables';
import { LeaseEventsProcessor } from './sessions/lease-events.processor';
import { SessionEventDataEntity } from './sessions/session-event-data.entity';
import { SessionEventEntity } from './sessions/session-event.entity';
import { SessionEventsService } from './sessions/session-events.service';
import { SessionEntity } from './sessions/session.entity';

@Module({
  imports: [
    MessagingModule.forService('session-reporting'),
    OpsModule,
    PersistenceModule.forService({
      schema: 'reporting',
      entities: [SessionEntity, SessionEventEntity, SessionEventDataEntity],
      migrations: [CreateReportingTables1795391302481],
      applicationName: 'session-reporting',
    }),
  ],
  providers: [SessionEventsService, LeaseEventsProcessor],
})
export class AppModule {}
