import { Global, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { loadConfig, redisConfig } from '@openecm/config';
import { Redis } from 'ioredis';
import { HealthRegistry } from './health';

/** One ioredis connection per app for commands; BullMQ opens its own. */
@Injectable()
export class RedisConnection implements OnApplicationShutdown {
  readonly client: Redis;

  constructor(health: HealthRegistry) {
    this.client = new Redis(loadConfig(redisConfig).REDIS_URL, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
    // reconnects are automatic; an error event without a listener would crash the process
    this.client.on('error', () => undefined);
    health.register('redis', async () => (await this.client.ping()) === 'PONG');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

@Global()
@Module({ providers: [RedisConnection], exports: [RedisConnection] })
export class RedisModule {}
