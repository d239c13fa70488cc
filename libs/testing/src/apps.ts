import type { INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Bus, natsServerOptions } from '@openecm/messaging';
import { ProblemFilter } from '@openecm/service-kit';

/**
 * Starts one app in-process the way main.ts does (HTTP on a free port plus its NATS responder); `configure`
 * is main.ts's own (the gateway's edge setup).
 */
export async function startTestApp(
  name: string,
  module: Type<unknown>,
  configure?: (app: INestApplication) => void,
): Promise<{ app: INestApplication; url: string; port: number }> {
  const ref = await Test.createTestingModule({ imports: [module] }).compile();
  const app = ref.createNestApplication({ logger: ['error'] });
  app.useGlobalFilters(new ProblemFilter());
  app.connectMicroservice(natsServerOptions(name), { inheritAppConfig: true });
  configure?.(app);
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}`, port };
}

/** A NATS client speaking the contracts, for tests that call a service the way another service would. */
export function testBus(): Bus {
  return new Bus();
}
