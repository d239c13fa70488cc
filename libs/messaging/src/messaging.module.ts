import { Global, Module } from '@nestjs/common';
import type { CustomStrategy } from '@nestjs/microservices';
import { lifecycleConfig, loadConfig, natsConfig } from '@openecm/config';
import { Bus } from './bus';
import { DrainingNatsServer } from './draining-server';
import { NatsConnectionProvider } from './nats-connection';

@Global()
@Module({ providers: [Bus, NatsConnectionProvider], exports: [Bus, NatsConnectionProvider] })
export class MessagingModule {}

/**
 * The NATS microservice of an app: its name is its queue group, so instances share the work; on shutdown
 * it leaves the group and answers what it holds before it closes (SHUTDOWN_TIMEOUT_MS at most).
 */
export function natsServerOptions(app: string): CustomStrategy {
  const options = { servers: [loadConfig(natsConfig).NATS_URL], queue: app, name: app };
  return { strategy: new DrainingNatsServer(options, loadConfig(lifecycleConfig).SHUTDOWN_TIMEOUT_MS) };
}
