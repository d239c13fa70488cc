import { PoliciesHttpController } from './admin/policies.http-controller';
import { ApprovalsHttpController, RevocationHttpController } from './approvals/approvals.http-controller';
import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { MessagingModule } from '@openecm/messaging';
import { PersistenceModule } from '@openecm/persistence';
import { OpsModule, RedisModule } from '@openecm/service-kit';
import { ApiAccountEntity } from './accounts/api-account.entity';
import { ApiAccountsHttpController } from './accounts/api-accounts.http-controller';
import { ApiAccountsService } from './accounts/api-accounts.service';
import { AuditHttpController } from './audit/audit.http-controller';
import { AuditInterceptor } from './audit/audit.interceptor';
import { AuditTrail } from './audit/audit-trail.service';
import { AuditLeaseEvents } from './audit/lease-events.consumer';
import { ConsoleAuthHttpController } from './console/console-auth.http-controller';
import { ConsolePagesHttpController } from './console/console-pages.http-controller';
import { ConsoleSessions } from './console/console-sessions';
import { OidcSignIn } from './console/oidc-sign-in';
import { GroupsHttpController } from './admin/groups.http-controller';
import { KeysHttpController } from './admin/keys.http-controller';
import { TokenCacheHttpController } from './admin/token-cache.http-controller';
import { VaultsHttpController } from './admin/vaults.http-controller';
import { CredentialsHttpController } from './credentials/credentials.http-controller';
import { JumpItemSettingsHttpController, JumpItemsHttpController } from './jump-items/jump-items.http-controller';
import { LeaseListHttpController } from './leases/lease-list.http-controller';
import { LeasesHttpController } from './leases/leases.http-controller';
import { GatewayApiAccounts1767225600000 } from './migrations/1767225600000-gateway-api-accounts';
import { AuditRecord1767830400000 } from './migrations/1767830400000-audit-record';
import { ApiAccountApprovals1767830400002 } from './migrations/1767830400002-api-account-approvals';
import { AuditEventId1767830400001 } from './migrations/1767830400001-audit-event-id';
import { AccessTokenEntity } from './oauth/access-token.entity';
import { ApiAuthGuard } from './oauth/api-auth.guard';
import { OAuthHttpController } from './oauth/oauth.http-controller';
import { SignInEvents } from './oauth/sign-in-events';
import { SignInLimiter } from './oauth/sign-in-limiter';
import { TokenService } from './oauth/token.service';
import { ApiDocsHttpController } from './openapi/api-docs.http-controller';
import { DiagnosticsService } from './ops/diagnostics.service';
import { OpsHttpController } from './ops/ops.http-controller';
import { ApplianceConnectionHttpController } from './reports/appliance.http-controller';
import { ReportsHttpController } from './reports/reports.http-controller';
import { SessionEventsHttpController } from './sessions/session-events.http-controller';
import { GATEWAY_SCHEMA } from './schema';

@Module({
  imports: [
    MessagingModule.forService('appliance-gateway'),
    OpsModule,
    // the sign-in limits every instance shares
    RedisModule,
    PersistenceModule.forService({
      schema: GATEWAY_SCHEMA,
      entities: [ApiAccountEntity, AccessTokenEntity],
      migrations: [GatewayApiAccounts1767225600000, AuditRecord1767830400000, AuditEventId1767830400001, ApiAccountApprovals1767830400002],
      applicationName: 'appliance-gateway',
    }),
  ],
  controllers: [
    OAuthHttpController,
    CredentialsHttpController,
    LeasesHttpController,
    LeaseListHttpController,
    VaultsHttpController,
    TokenCacheHttpController,
    KeysHttpController,
    GroupsHttpController,
    PoliciesHttpController,
    ApprovalsHttpController,
    RevocationHttpController,
    ApiAccountsHttpController,
    JumpItemsHttpController,
    JumpItemSettingsHttpController,
    AuditHttpController,
    ApiDocsHttpController,
    OpsHttpController,
    ConsoleAuthHttpController,
    ConsolePagesHttpController,
    ReportsHttpController,
    SessionEventsHttpController,
    ApplianceConnectionHttpController,
  ],
  providers: [ConsoleSessions, OidcSignIn, ApiAccountsService, TokenService, ApiAuthGuard, DiagnosticsService, SignInLimiter, SignInEvents, AuditTrail, AuditLeaseEvents, { provide: APP_INTERCEPTOR, useClass: AuditInterceptor }],
})
export class AppModule {}
