import { Module } from '@nestjs/common';
import { MessagingModule } from '@openecm/messaging';
import { PersistenceModule } from '@openecm/persistence';
import { OpsModule } from '@openecm/service-kit';
import { ApplianceConnectionEntity, ReportPollEntity } from './appliance/appliance-connection.entity';
import { ApplianceConnections } from './appliance/appliance-connection.service';
import { ApplianceKeys } from './appliance/appliance-keys';
import { ApplianceNatsController } from './appliance/appliance.nats-controller';
import { ReportPollProcessor } from './appliance/report-poll.processor';
import { SessionTerminator } from './appliance/session-terminator.consumer';
import { CreateReportingTables1795391302481 } from './migrations/1795391302481-create-reporting-tables';
import { ReportingBrokerColumns1796000000000 } from './migrations/1796000000000-reporting-broker-columns';
import { ReportingPartialIndexes1796000000001 } from './migrations/1796000000001-reporting-partial-indexes';
import { ReportingRollups1796000000002 } from './migrations/1796000000002-reporting-rollups';
import { ReportingBytewiseText1796000000003 } from './migrations/1796000000003-reporting-bytewise-text';
import { ReportingDekads1796000000004 } from './migrations/1796000000004-reporting-dekads';
import { ReportingRecordEvents1796000000005 } from './migrations/1796000000005-reporting-record-events';
import { ReportsNatsController } from './reports/reports.nats-controller';
import { ReportsService } from './reports/reports.service';
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
      entities: [SessionEntity, SessionEventEntity, SessionEventDataEntity, ApplianceConnectionEntity, ReportPollEntity],
      migrations: [CreateReportingTables1795391302481, ReportingBrokerColumns1796000000000, ReportingPartialIndexes1796000000001, ReportingRollups1796000000002, ReportingBytewiseText1796000000003, ReportingDekads1796000000004, ReportingRecordEvents1796000000005],
      applicationName: 'session-reporting',
    }),
  ],
  controllers: [ReportsNatsController, ApplianceNatsController],
  providers: [SessionEventsService, LeaseEventsProcessor, ReportsService, ApplianceKeys, ApplianceConnections, ReportPollProcessor, SessionTerminator],
})
export class AppModule {}
