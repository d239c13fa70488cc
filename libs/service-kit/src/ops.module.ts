import { Global, Module, type MiddlewareConsumer, type NestModule, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { CacheInvalidations } from './cache-invalidation';
import { HealthController, HealthRegistry } from './health';
import { HttpMetricsMiddleware, MetricsController } from './metrics';
import { OpsResponder, optionalProvider } from './ops-responder';
import { Broadcaster, NatsConnectionProvider } from '@openecm/messaging';

/**
 * /health/live, /health/ready and /metrics for every app; readiness covers NATS and, when present, Postgres.
 * Also the ops broadcasts every instance answers (ping, log level) and the broadcaster that sends them.
 */
@Global()
@Module({
  controllers: [HealthController, MetricsController],
  providers: [HealthRegistry, OpsResponder, Broadcaster, CacheInvalidations],
  exports: [HealthRegistry, OpsResponder, Broadcaster, CacheInvalidations],
})
export class OpsModule implements NestModule, OnModuleInit {
  constructor(
    private readonly registry: HealthRegistry,
    private readonly moduleRef: ModuleRef,
  ) {}

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*path');
  }

  onModuleInit(): void {
    const nats = this.moduleRef.get(NatsConnectionProvider, { strict: false });
    this.registry.register('nats', () => nats.isHealthy());
    const dataSource = optionalProvider(this.moduleRef, DataSource);
    if (dataSource) this.registry.register('postgres', async () => (await dataSource.query('SELECT 1')).length === 1);
  }
}
