import { Global, Module } from '@nestjs/common';
import { Transport, type NatsOptions } from '@nestjs/microservices';
import { loadConfig, natsConfig } from '@openecm/config';
import { Bus } from './bus';
import { NatsConnectionProvider } from './nats-connection';

@Global()
@Module({ providers: [Bus, NatsConnectionProvider], exports: [Bus, NatsConnectionProvider] })
export class MessagingModule {}

/** The NATS microservice options of an app: its name is its queue group, so instances share the work. */
export function natsServerOptions(app: string): NatsOptions {
  return {
    transport: Transport.NATS,
    options: { servers: [loadConfig(natsConfig).NATS_URL], queue: app, name: app },
  };
}
