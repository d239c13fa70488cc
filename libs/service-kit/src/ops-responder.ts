import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { productVersion } from '@openecm/config';
import { LogLevel, type BroadcastReplyOf, type ParsedBroadcastRequestOf } from '@openecm/contracts';
import { NatsConnectionProvider, answerBroadcast } from '@openecm/messaging';
import { migrationStatus } from '@openecm/persistence';
import { LogLevelSwitch } from '@openecm/telemetry';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Subscription } from 'nats';
import { DataSource } from 'typeorm';
import { CacheInvalidations } from './cache-invalidation';
import { HealthRegistry } from './health';

export interface OpsIdentity {
  service: string;
  /** The process's root logger, whose level the log-level broadcast switches. */
  logger: Logger;
  /** Defaults to host name and process id. */
  instance?: string;
}

/**
 * Every instance of every app answers the ops broadcasts: a ping (who it is, its version, uptime, readiness
 * and migrations), the log-level switch, which reverts to the configured LOG_LEVEL on its own, and the
 * invalidation of the in-process caches it holds.
 */
@Injectable()
export class OpsResponder implements BeforeApplicationShutdown {
  private subscriptions: Subscription[] = [];
  private identity?: Required<OpsIdentity>;
  private level?: LogLevelSwitch;
  private readonly version = productVersion(__dirname);

  constructor(
    private readonly nats: NatsConnectionProvider,
    private readonly health: HealthRegistry,
    private readonly moduleRef: ModuleRef,
    private readonly caches: CacheInvalidations,
  ) {}

  async start(identity: OpsIdentity): Promise<void> {
    this.identity = { instance: `${hostname()}/${process.pid}`, ...identity };
    this.level = new LogLevelSwitch(identity.logger);
    const nc = await this.nats.get();
    this.subscriptions = [
      answerBroadcast(nc, 'ops.instance.ping.v1', (req) => this.ping(req)),
      answerBroadcast(nc, 'ops.log-level.set.v1', (req) => this.setLevel(req)),
      answerBroadcast(nc, 'ops.cache.invalidate.v1', (req) => this.invalidate(req)),
    ];
    await nc.flush();
  }

  private async ping(req: ParsedBroadcastRequestOf<'ops.instance.ping.v1'>): Promise<BroadcastReplyOf<'ops.instance.ping.v1'> | undefined> {
    const { identity, level } = this.started();
    if (req.service && req.service !== identity.service) return undefined;
    const checks = await this.health.run();
    const dataSource = this.dataSource();
    const migrations = dataSource ? await migrationStatus(dataSource).catch(() => undefined) : undefined;
    identity.logger.debug({ instance: identity.instance }, 'ping answered');
    const uptimeSeconds = Math.round(process.uptime());
    return {
      service: identity.service,
      instance: identity.instance,
      version: this.version,
      startedAt: new Date(Date.now() - uptimeSeconds * 1000).toISOString(),
      uptimeSeconds,
      ready: !this.health.draining && Object.values(checks).every((s) => s === 'up'),
      checks,
      ...(migrations ? { migrations } : {}),
      logLevel: LogLevel.parse(level.level),
      logLevelRevertsAt: level.revertsAt?.toISOString() ?? null,
    };
  }

  private async setLevel(req: ParsedBroadcastRequestOf<'ops.log-level.set.v1'>): Promise<BroadcastReplyOf<'ops.log-level.set.v1'> | undefined> {
    const { identity, level } = this.started();
    if (req.service && req.service !== identity.service) return undefined;
    const applied = level.set(req.level, req.revertAfterSeconds * 1000);
    return { service: identity.service, instance: identity.instance, level: req.level, revertsAt: applied.revertsAt?.toISOString() ?? null };
  }

  private async invalidate(req: ParsedBroadcastRequestOf<'ops.cache.invalidate.v1'>): Promise<BroadcastReplyOf<'ops.cache.invalidate.v1'> | undefined> {
    const { identity } = this.started();
    if (!this.caches.holds(req.cache)) return undefined;
    const dropped = this.caches.drop(req.cache, { vault: req.vault, user: req.user });
    identity.logger.debug({ cache: req.cache, dropped }, 'cache invalidated');
    return { service: identity.service, instance: identity.instance, cache: req.cache, dropped };
  }

  private started(): { identity: Required<OpsIdentity>; level: LogLevelSwitch } {
    if (!this.identity || !this.level) throw new Error('the ops responder was not started');
    return { identity: this.identity, level: this.level };
  }

  private dataSource(): DataSource | undefined {
    return optionalProvider(this.moduleRef, DataSource);
  }

  /** Stops answering before the connection drains, so a stopping instance is no longer counted. */
  beforeApplicationShutdown(): void {
    for (const sub of this.subscriptions.splice(0)) sub.unsubscribe();
    this.level?.cancel();
  }
}

/** A provider the app may or may not have (a DataSource in the apps that own a schema). */
export function optionalProvider<T>(moduleRef: ModuleRef, token: new (...args: never[]) => T): T | undefined {
  try {
    return moduleRef.get(token, { strict: false });
  } catch {
    return undefined;
  }
}
