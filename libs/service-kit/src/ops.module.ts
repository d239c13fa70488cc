import { Global, Module, type MiddlewareConsumer, type NestModule, type OnModuleInit } from '@nestjs/common';
import { NatsConnectionProvider } from '@openecm/messaging';
import { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { HealthController, HealthRegistry } from './health';
import { HttpMetricsMiddleware, MetricsController } from './metrics';

/** /health/live, /health/ready and /metrics for every app; readiness covers NATS and, when present, Postgres. */
@Global()
@Module({
  controllers: [HealthController, MetricsController],
  providers: [HealthRegistry],
  exports: [HealthRegistry],
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
    const dataSource = this.optional(DataSource);
    if (dataSource) this.registry.register('postgres', async () => (await dataSource.query('SELECT 1')).length === 1);
  }

  private optional<T>(token: new (...args: never[]) => T): T | undefined {
    try {
      return this.moduleRef.get(token, { strict: false });
    } catch {
      return undefined;
    }
  }
}
