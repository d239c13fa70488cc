import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { Events, type ConnectionOptions, type JetStreamClient, type NatsConnection } from 'nats';
import { natsConnectionOptions } from './nats-options';
import { connectNats } from './nats-transport';
import { NATS_SERVICE } from './nats-service';

const logger = new Logger('nats');

/** A subject the server refused this connection (operation `publish` or `subscription`): what to permit. */
async function reportRefusals(nc: NatsConnection): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type !== Events.Error || !status.permissionContext) continue;
    const { operation, subject } = status.permissionContext;
    logger.error({ operation, subject }, `NATS refused the ${operation} ${subject}: the service's NATS user lacks the permission`);
  }
}

/** The app's NATS connection for requests (`Bus`), JetStream, broadcasts and health checks; its responders have their own (`DrainingNatsServer`). */
@Injectable()
export class NatsConnectionProvider implements OnApplicationShutdown {
  private connection?: Promise<NatsConnection>;
  /** What it connects with: the app's name, inbox, credentials and TLS. */
  readonly options: ConnectionOptions;

  constructor(@Optional() @Inject(NATS_SERVICE) service?: string) {
    this.options = { ...natsConnectionOptions(service), maxReconnectAttempts: -1 };
  }

  get(): Promise<NatsConnection> {
    this.connection ??= connectNats(this.options).then(
      (nc) => {
        void reportRefusals(nc);
        return nc;
      },
      (error: unknown) => {
        // a server out of reach at boot is tried again by the next caller
        this.connection = undefined;
        throw error;
      },
    );
    return this.connection;
  }

  async jetstream(): Promise<JetStreamClient> {
    return (await this.get()).jetstream();
  }

  async isHealthy(): Promise<boolean> {
    try {
      const nc = await this.get();
      if (nc.isClosed()) return false;
      await nc.flush();
      return true;
    } catch {
      return false;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.connection) return;
    const nc = await this.connection.catch(() => undefined);
    await nc?.drain().catch(() => undefined);
  }
}
