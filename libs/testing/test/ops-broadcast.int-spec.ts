import { Module, type INestApplication } from '@nestjs/common';
import { Broadcaster, MessagingModule } from '@openecm/messaging';
import { PersistenceModule } from '@openecm/persistence';
import { NATS_URL, createTestDatabase, startTestApp, waitFor } from '../src';
import { JSONCodec, connect } from 'nats';
import { Writable } from 'node:stream';
import { Client } from 'pg';
import pino from 'pino';
import type { MigrationInterface } from 'typeorm';
import { OpsModule, OpsResponder } from '@openecm/service-kit';

process.env['NATS_URL'] = NATS_URL;
const namespace = process.env['OPENECM_NAMESPACE'] as string;

class OpsFirst1700000000000 implements MigrationInterface {
  name = 'OpsFirst1700000000000';
  async up(): Promise<void> {}
  async down(): Promise<void> {}
}

@Module({ imports: [MessagingModule, OpsModule] })
class PlainModule {}

interface Instance {
  app: INestApplication;
  lines: Array<{ level: string; msg: string }>;
  logger: pino.Logger;
}

async function instance(service: string, id: string, module: unknown = PlainModule): Promise<Instance> {
  const lines: Instance['lines'] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Instance['lines'][number]);
      done();
    },
  });
  const logger = pino({ level: 'warn', base: { service }, formatters: { level: (label) => ({ level: label }) } }, stream);
  const { app } = await startTestApp(service, module as never);
  await app.get(OpsResponder).start({ service, logger, instance: id });
  return { app, lines, logger };
}

describe('ops broadcasts on real NATS: every instance answers, no queue group', () => {
  let db: { url: string; drop: () => Promise<void> };
  const instances: Instance[] = [];
  let broadcaster: Broadcaster;

  beforeAll(async () => {
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    @Module({
      imports: [
        MessagingModule,
        OpsModule,
        PersistenceModule.forService({ schema: 'opstest', entities: [], migrations: [OpsFirst1700000000000], applicationName: 'ops-test' }),
      ],
    })
    class OwningModule {}
    instances.push(await instance('vault-adapters', 'host-a/1'), await instance('vault-adapters', 'host-b/2'), await instance('policy-approval', 'host-c/3', OwningModule));
    broadcaster = (instances[0] as Instance).app.get(Broadcaster);
  });

  afterAll(async () => {
    for (const i of instances) await i.app.close();
    await db?.drop();
  });

  it('answers a ping from every instance: who, version, uptime, readiness and migrations', async () => {
    const all = await broadcaster.gather('ops.instance.ping.v1', {});
    expect(all.map((i) => i.instance).sort()).toEqual(['host-a/1', 'host-b/2', 'host-c/3']);
    const owning = all.find((i) => i.service === 'policy-approval');
    expect(owning).toMatchObject({
      version: '0.1.0',
      ready: true,
      checks: { nats: 'up', postgres: 'up' },
      migrations: { schema: 'opstest', pending: [], unknown: [] },
      logLevel: 'warn',
      logLevelRevertsAt: null,
    });
    expect(owning?.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(all.find((i) => i.instance === 'host-a/1')?.migrations).toBeUndefined();
    const one = await broadcaster.gather('ops.instance.ping.v1', { service: 'vault-adapters' });
    expect(one.map((i) => i.instance).sort()).toEqual(['host-a/1', 'host-b/2']);
  });

  it('names migrations the schema lacks, and those it has that the code does not know', async () => {
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      await pg.query(`INSERT INTO opstest.migrations ("timestamp", name) VALUES (1800000000000, 'OpsLater1800000000000')`);
      const [later] = await broadcaster.gather('ops.instance.ping.v1', { service: 'policy-approval' });
      expect(later?.migrations).toEqual({ schema: 'opstest', pending: [], unknown: ['OpsLater1800000000000'] });
      await pg.query(`DELETE FROM opstest.migrations`);
      const [behind] = await broadcaster.gather('ops.instance.ping.v1', { service: 'policy-approval' });
      expect(behind?.migrations).toEqual({ schema: 'opstest', pending: ['OpsFirst1700000000000'], unknown: [] });
    } finally {
      await pg.end();
    }
  });

  it("switches one service's instances to debug at once, and each returns to its configured level on its own", async () => {
    const [a, b, c] = instances as [Instance, Instance, Instance];
    const applied = await broadcaster.gather('ops.log-level.set.v1', { level: 'debug', service: 'vault-adapters', revertAfterSeconds: 1 });
    expect(applied.map((r) => r.instance).sort()).toEqual(['host-a/1', 'host-b/2']);
    for (const reply of applied) {
      expect(reply).toMatchObject({ service: 'vault-adapters', level: 'debug' });
      expect(Date.parse(reply.revertsAt as string)).toBeGreaterThan(Date.now());
    }
    expect([a.logger.level, b.logger.level, c.logger.level]).toEqual(['debug', 'debug', 'warn']);
    a.logger.debug('a debug line');
    c.logger.debug('not written');
    expect(a.lines.map((l) => l.msg)).toEqual(['log level switched', 'a debug line']);
    expect(c.lines).toEqual([]);
    const pinged = await broadcaster.gather('ops.instance.ping.v1', { service: 'vault-adapters' });
    expect(pinged.every((i) => i.logLevel === 'debug' && i.logLevelRevertsAt !== null)).toBe(true);
    await waitFor(() => a.logger.level === 'warn' && b.logger.level === 'warn', { timeoutMs: 5000, what: 'the revert' });
    a.logger.debug('after the revert');
    expect(a.lines.map((l) => l.msg)).not.toContain('after the revert');
  });

  it('switches every service when none is named, and hears nobody for a service without instances', async () => {
    const applied = await broadcaster.gather('ops.log-level.set.v1', { level: 'info' });
    expect(applied.map((r) => r.instance).sort()).toEqual(['host-a/1', 'host-b/2', 'host-c/3']);
    expect(applied.every((r) => r.revertsAt !== null)).toBe(true);
    expect(await broadcaster.gather('ops.log-level.set.v1', { level: 'info', service: 'session-reporting' }, { maxWaitMs: 500 })).toEqual([]);
    await broadcaster.gather('ops.log-level.set.v1', { level: 'warn' });
    expect(instances.map((i) => i.logger.level)).toEqual(['warn', 'warn', 'warn']);
  });

  it('answers a malformed broadcast with the field named, and sends nothing it cannot validate', async () => {
    await expect(broadcaster.gather('ops.log-level.set.v1', { level: 'verbose' as never })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    const nc = await connect({ servers: NATS_URL });
    const codec = JSONCodec<{ ok: boolean; error?: { code: string; fields?: Array<{ field: string }> } }>();
    try {
      const reply = await nc.request(`${namespace}.ops.log-level.set.v1`, JSONCodec().encode({ level: 'debug', revertAfterSeconds: 999_999 }), { timeout: 2000 });
      expect(codec.decode(reply.data)).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', fields: [{ field: 'revertAfterSeconds' }] } });
      expect(instances.map((i) => i.logger.level)).toEqual(['warn', 'warn', 'warn']);
    } finally {
      await nc.close();
    }
  });

  it('stops answering once an instance shuts down', async () => {
    const extra = await instance('token-cache', 'host-d/4');
    expect((await broadcaster.gather('ops.instance.ping.v1', { service: 'token-cache' })).map((i) => i.instance)).toEqual(['host-d/4']);
    await extra.app.close();
    expect(await broadcaster.gather('ops.instance.ping.v1', { service: 'token-cache' }, { maxWaitMs: 500 })).toEqual([]);
  });
});
