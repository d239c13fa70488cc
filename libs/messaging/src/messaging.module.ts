import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { CustomStrategy } from '@nestjs/microservices';
import { lifecycleConfig, loadConfig } from '@openecm/config';
import { Bus } from './bus';
import { DrainingNatsServer } from './draining-server';
import { NatsConnectionProvider } from './nats-connection';
import { NATS_SERVICE } from './nats-service';
import { natsConnectionOptions } from './nats-options';

@Global()
@Module({ providers: [Bus, NatsConnectionProvider], exports: [Bus, NatsConnectionProvider] })
export class MessagingModule {
  /**
   * An app's messaging: its connections are named after it and its replies come back on inbox subjects of
   * its own, the ones its NATS user may subscribe to.
   */
  static forService(service: string): DynamicModule {
    return { module: MessagingModule, providers: [{ provide: NATS_SERVICE, useValue: service }], exports: [NATS_SERVICE] };
  }
}

/**
 * The NATS microservice of an app: its name is its queue group, so instances share the work; on shutdown
 * it leaves the group and answers what it holds before it closes (SHUTDOWN_TIMEOUT_MS at most).
 */
export function natsServerOptions(app: string): CustomStrategy {
  const options = { ...natsConnectionOptions(app), queue: app };
  return { strategy: new DrainingNatsServer(options, loadConfig(lifecycleConfig).SHUTDOWN_TIMEOUT_MS) };
}
