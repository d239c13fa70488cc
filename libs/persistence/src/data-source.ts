import { Logger } from '@nestjs/common';
import { loadConfig, postgresConfig } from '@openecm/config';
import { Client } from 'pg';
import { DataSource, MigrationExecutor, type EntitySchema, type MixedList } from 'typeorm';

export interface ServiceDataSourceOptions {
  /** The schema the owning service keeps its tables (and its migrations table) in. */
  schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  applicationName: string;
  url?: string;
}

const logger = new Logger('persistence');

/** Creates the database named in the URL when it does not exist yet (first start on a fresh server). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) return;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((error: { code?: string }) => {
        // another instance created it at the same moment
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
      logger.log(`created database ${name}`);
    }
  } finally {
    await client.end();
  }
}

export function createServiceDataSource(options: ServiceDataSourceOptions): DataSource {
  const config = loadConfig(postgresConfig);
  return new DataSource({
    type: 'postgres',
    url: options.url ?? config.DATABASE_URL,
    schema: options.schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: options.applicationName,
    // Warm connections: no reconnect on the request after a quiet moment; TCP keepalive finds dead peers.
    extra: { idleTimeoutMillis: config.DATABASE_POOL_IDLE_TIMEOUT_MS, keepAlive: true },
  });
}

/** Connects, creates the service's schema and applies its pending migrations (one instance at a time). */
export async function openServiceDataSource(options: ServiceDataSourceOptions): Promise<DataSource> {
  const url = options.url ?? loadConfig(postgresConfig).DATABASE_URL;
  await ensureDatabase(url);
  const dataSource = createServiceDataSource({ ...options, url });
  await dataSource.initialize();
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    // An advisory lock keyed by the schema, so instances starting together migrate one after another.
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [options.schema]);
    await runner.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [options.schema]).catch(() => undefined);
    await runner.release();
  }
  return dataSource;
}

/**
 * How the service's migrations stand against its schema: `pending` are in this code but not applied (the
 * schema is behind), `unknown` are applied but not in this code (this instance is older than the schema).
 */
export async function migrationStatus(dataSource: DataSource): Promise<{ schema: string; pending: string[]; unknown: string[] }> {
  const known = dataSource.migrations.map((m) => m.name ?? m.constructor.name);
  const applied = (await new MigrationExecutor(dataSource).getExecutedMigrations()).map((m) => m.name);
  const schema = (dataSource.options as { schema?: string }).schema ?? 'public';
  return { schema, pending: known.filter((n) => !applied.includes(n)), unknown: applied.filter((n) => !known.includes(n)) };
}
