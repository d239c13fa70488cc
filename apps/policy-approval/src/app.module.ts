import { Module } from '@nestjs/common';
import { MessagingModule } from '@openecm/messaging';
import { PersistenceModule } from '@openecm/persistence';
import { OpsModule, RedisModule } from '@openecm/service-kit';
import { AccessNatsController } from './access/access.nats-controller';
import { AccessService } from './access/access.service';
import { ApprovalTimers } from './approvals/approval-timers';
import { ApprovalsNatsController } from './approvals/approvals.nats-controller';
import { ApprovalsService } from './approvals/approvals.service';
import { TimersProcessor } from './approvals/timers.processor';
import { CredentialQueue } from './exclusive/credential-queue.service';
import { PolicyApprovals1767399000000 } from './migrations/1767399000000-policy-approvals';
import { PoliciesNatsController } from './policies/policies.nats-controller';
import { PoliciesService } from './policies/policies.service';
import { LeaseEvents } from './events/lease-events';
import { LeaseNatsController } from './leases/lease.nats-controller';
import { LeaseRepository } from './leases/lease.repository';
import { LeaseService } from './leases/lease.service';
import { PolicyInitial1764000000000 } from './migrations/1764000000000-policy-initial';
import { PolicyCheckinDue1767398400000 } from './migrations/1767398400000-policy-checkin-due';
import { PolicyRotationRetrying1767398500000 } from './migrations/1767398500000-policy-rotation-retrying';
import { PolicyLeaseOwner1767398600000 } from './migrations/1767398600000-policy-lease-owner';
import { PolicyLeaseList1767312000000 } from './migrations/1767312000000-policy-lease-list';
import { PolicyJumpItems1767398900000 } from './migrations/1767398900000-policy-jump-items';
import { JumpItemSettingsRepository } from './jump-items/jump-item-settings.repository';
import { JumpItemUsesConsumer } from './jump-items/jump-item-uses.consumer';
import { JumpItemsCache } from './jump-items/jump-items.cache';
import { JumpItemsNatsController } from './jump-items/jump-items.nats-controller';
import { JumpItemsService } from './jump-items/jump-items.service';
import { OffersNatsController } from './offers/offers.nats-controller';
import { OffersPruner } from './offers/offers.pruner';
import { OffersService } from './offers/offers.service';
import { ReleaseProcessor } from './release-queue/release.processor';
import { ReleaseProducer } from './release-queue/release.producer';
import { ReleaseReconciler } from './release-queue/release.reconciler';
import { VaultSweepProcessor } from './vault-sweep/vault-sweep.processor';
import { VaultSweepProducer } from './vault-sweep/vault-sweep.producer';

@Module({
  imports: [
    MessagingModule.forService('policy-approval'),
    OpsModule,
    RedisModule,
    PersistenceModule.forService({
      schema: 'policy',
      entities: [],
      migrations: [PolicyInitial1764000000000, PolicyLeaseList1767312000000, PolicyCheckinDue1767398400000, PolicyRotationRetrying1767398500000, PolicyLeaseOwner1767398600000, PolicyJumpItems1767398900000, PolicyApprovals1767399000000],
      applicationName: 'policy-approval',
    }),
  ],
  controllers: [AccessNatsController, OffersNatsController, LeaseNatsController, JumpItemsNatsController, PoliciesNatsController, ApprovalsNatsController],
  providers: [
    AccessService,
    OffersService,
    OffersPruner,
    LeaseRepository,
    LeaseService,
    LeaseEvents,
    ReleaseProducer,
    ReleaseProcessor,
    ReleaseReconciler,
    VaultSweepProducer,
    VaultSweepProcessor,
    JumpItemSettingsRepository,
    JumpItemsCache,
    JumpItemsService,
    JumpItemUsesConsumer,
    PoliciesService,
    ApprovalTimers,
    ApprovalsService,
    CredentialQueue,
    TimersProcessor,
  ],
})
export class AppModule {}
