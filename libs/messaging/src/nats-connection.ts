import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { loadConfig, natsConfig } from '@openecm/config';
import { connect, type JetStreamClient, type NatsConnection } from 'nats';

/** A raw NATS connection for JetStream and health checks (request/reply goes through Nest's transport). */
@Injectable()
export class NatsConnectionProvider implements OnApplicationShutdown {
  private connection?: Promise<NatsConnection>;

  get(): Promise<NatsConnection> {
    this.connection ??= connect({ servers: loadConfig(natsConfig).NATS_URL, name: 'openecm', maxReconnectAttempts: -1 });
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
