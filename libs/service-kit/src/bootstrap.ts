import { type INestApplication, type Type } from '@nestjs/common';
import type { HttpsOptions } from '@nestjs/common/interfaces/external/https-options.interface';
import type { ServerOptions } from 'node:https';
import { NestFactory } from '@nestjs/core';
import { lifecycleConfig, loadConfig, logConfig } from '@openecm/config';
import { natsServerOptions } from '@openecm/messaging';
import { PinoNestLogger, createLogger } from '@openecm/telemetry';
import type { Logger } from 'pino';
import { stopTelemetry } from '@openecm/telemetry/register';
import { HealthRegistry } from './health';
import { OpsResponder } from './ops-responder';
import { ProblemFilter } from './problem.filter';

export interface ServiceOptions {
  name: string;
  module: Type<unknown>;
  port: number;
  host?: string;
  /** Runs before the app starts listening (e.g. the gateway's JSON body limits). */
  configure?: (app: INestApplication) => void | Promise<void>;
  /** Serve HTTPS with these (the gateway, when it terminates TLS itself). */
  httpsOptions?: ServerOptions | undefined;
}

/**
 * Starts one OpenECM app: HTTP (health, metrics, and the gateway's API) plus its NATS responder in the
 * app's queue group. Returns the app and the bound HTTP port.
 */
export async function startService(options: ServiceOptions): Promise<{ app: INestApplication; port: number }> {
  const logger = createLogger(options.name, loadConfig(logConfig).LOG_LEVEL);
  const app = await NestFactory.create(options.module, {
    logger: new PinoNestLogger(logger),
    bufferLogs: false,
    abortOnError: false,
    // Nest hands these to https.createServer as they are; its own type names only some of them.
    ...(options.httpsOptions ? { httpsOptions: options.httpsOptions as HttpsOptions } : {}),
  });
  app.useGlobalFilters(new ProblemFilter());
  app.connectMicroservice(natsServerOptions(options.name), { inheritAppConfig: true });
  await options.configure?.(app);
  await app.startAllMicroservices();
  await app.get(OpsResponder, { strict: false }).start({ service: options.name, logger });
  await app.listen(options.port, options.host ?? '0.0.0.0');
  const address = app.getHttpServer().address() as { port: number };
  logger.info({ port: address.port }, `${options.name} started`);
  drainOnSignal(app, logger, options.name);
  return { app, port: address.port };
}

/**
 * SIGTERM or SIGINT: readiness turns 503 at once (a load balancer stops sending), the HTTP server stops
 * accepting and finishes the requests it has, the NATS responder leaves its queue group and answers what it
 * holds, workers finish their jobs, then connections close and the last spans are flushed. Whatever is
 * still running after SHUTDOWN_TIMEOUT_MS is abandoned (BullMQ and the reconciler pick it up again) and the
 * process exits 1.
 */
function drainOnSignal(app: INestApplication, logger: Logger, name: string): void {
  const { SHUTDOWN_TIMEOUT_MS: timeoutMs } = loadConfig(lifecycleConfig);
  let started = false;
  const drain = async (signal: NodeJS.Signals) => {
    if (started) return;
    started = true;
    const since = Date.now();
    logger.info({ signal, timeoutMs }, `${name} draining`);
    app.get(HealthRegistry, { strict: false }).draining = true;
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs }, `${name} did not drain in time; exiting`);
      process.exit(1);
    }, timeoutMs);
    deadline.unref();
    try {
      await app.close();
      logger.info({ ms: Date.now() - since }, `${name} stopped`);
      await stopTelemetry();
      process.exit(0);
    } catch (error) {
      logger.error({ err: error instanceof Error ? error.name : 'unknown' }, `${name} failed while draining`);
      process.exit(1);
    }
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, (s) => void drain(s));
}
