import type { INestApplication } from '@nestjs/common';
import type { Bus } from '@openecm/messaging';
import { NATS_URL, createTestDatabase, deleteNamespaceStreams, startTestApp, testBus, testKey } from '@openecm/testing';
import { Client } from 'pg';

/** A session-reporting app on a database of its own, a client of that database and a bus to ask it over NATS. */
export interface ReportingApp {
  app: INestApplication;
  pg: Client;
  bus: Bus;
  close: () => Promise<void>;
}

export async function startReportingApp(): Promise<ReportingApp> {
  process.env['NATS_URL'] = NATS_URL;
  process.env['APPLIANCE_SETTINGS_KEYS'] = `r1:${testKey()}`;
  const db = await createTestDatabase();
  process.env['DATABASE_URL'] = db.url;
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  const { AppModule } = await import('../src/app.module');
  const { app } = await startTestApp('session-reporting', AppModule);
  const bus = testBus();
  return {
    app,
    pg,
    bus,
    close: async () => {
      await app.close();
      await bus.onApplicationShutdown();
      await pg.end();
      await deleteNamespaceStreams();
      await db.drop();
    },
  };
}
