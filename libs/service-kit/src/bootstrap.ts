import { type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig, logConfig } from '@openecm/config';
import { natsServerOptions } from '@openecm/messaging';
import { PinoNestLogger, createLogger } from '@openecm/telemetry';
import { ProblemFilter } from './problem.filter';

export interface ServiceOptions {
  name: string;
  module: Type<unknown>;
  port: number;
  host?: string;
  /** Runs before the app starts listening (e.g. the gateway's JSON body limits). */
  configure?: (app: INestApplication) => void | Promise<void>;
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
  });
  app.useGlobalFilters(new ProblemFilter());
  app.enableShutdownHooks();
  app.connectMicroservice(natsServerOptions(options.name), { inheritAppConfig: true });
  await options.configure?.(app);
  await app.startAllMicroservices();
  await app.listen(options.port, options.host ?? '0.0.0.0');
  const address = app.getHttpServer().address() as { port: number };
  logger.info({ port: address.port }, `${options.name} started`);
  return { app, port: address.port };
}
