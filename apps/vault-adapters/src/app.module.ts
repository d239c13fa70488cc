import { Module } from '@nestjs/common';
import { MessagingModule } from '@openecm/messaging';
import { PersistenceModule } from '@openecm/persistence';
import { OpsModule } from '@openecm/service-kit';
import { ConnectionsNatsController } from './connections/connections.nats-controller';
import { ConnectionsService } from './connections/connections.service';
import { CheckoutRepository } from './credentials/checkout.repository';
import { CredentialsNatsController } from './credentials/credentials.nats-controller';
import { CredentialsService } from './credentials/credentials.service';
import { VAULT_ADAPTERS, type VaultAdapter } from './credentials/vault-adapter';
import { ADAPTERS } from './adapters';
import { DiagnosticsNatsController } from './diagnostics/diagnostics.nats-controller';
import { VaultAddressPolicy } from '@openecm/vault-sdk';
import { vaultAddressPolicyFromConfig } from './http/address-policy.config';
import { KeysNatsController } from './keys/keys.nats-controller';
import { ResealService } from './keys/reseal.service';
import { VaultInitial1764000000000 } from './migrations/1764000000000-vault-initial';
import { VaultCheckoutIntent1767398400000 } from './migrations/1767398400000-vault-checkout-intent';
import { SealingKeys } from './sealing/sealing-keys';
import { SealingNatsController } from './sealing/sealing.nats-controller';
import { SessionsNatsController } from './sessions/sessions.nats-controller';
import { VaultSessionCache } from './sessions/vault-session-cache';
import { SystemsNatsController } from './systems/systems.nats-controller';
import { CheckoutSweepNatsController } from './sweep/checkout-sweep.nats-controller';
import { CheckoutSweepService } from './sweep/checkout-sweep.service';
import { SystemsService } from './systems/systems.service';

@Module({
  imports: [
    MessagingModule.forService('vault-adapters'),
    OpsModule,
    PersistenceModule.forService({
      schema: 'vault',
      entities: [],
      migrations: [VaultInitial1764000000000, VaultCheckoutIntent1767398400000],
      applicationName: 'vault-adapters',
    }),
  ],
  controllers: [ConnectionsNatsController, CredentialsNatsController, DiagnosticsNatsController, SealingNatsController, SessionsNatsController, SystemsNatsController, KeysNatsController, CheckoutSweepNatsController],
  providers: [
    ResealService,
    SealingKeys,
    ConnectionsService,
    CheckoutRepository,
    CredentialsService,
    CheckoutSweepService,
    SystemsService,
    VaultSessionCache,
    ...ADAPTERS,
    { provide: VaultAddressPolicy, useFactory: vaultAddressPolicyFromConfig },
    {
      provide: VAULT_ADAPTERS,
      useFactory: (...adapters: VaultAdapter[]) => adapters,
      inject: ADAPTERS,
    },
  ],
})
export class AppModule {}
