import { Controller, Module } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Test } from '@nestjs/testing';
import { loadConfig, natsConfig } from '@openecm/config';
import { Bus, DrainingNatsServer, Handles, MessagingModule } from '../src';

/** A handler that holds each request until the test lets it go, and says which instance answered. */
const held: Array<{ by: string; release: () => void }> = [];
let instanceName = '';

@Controller()
class SlowController {
  private readonly name = instanceName;

  @Handles('policy.credentials.list.v1')
  async list(req: ParsedRequestOf<'policy.credentials.list.v1'>): Promise<ReplyOf<'policy.credentials.list.v1'>> {
    if (req.user === 'hold') await new Promise<void>((release) => held.push({ by: this.name, release }));
    // the instance that answered, named where a list names a vault
    return { credentials: [], pending: [{ vault: this.name, reason: 'answered' }] };
  }
}

@Module({ imports: [MessagingModule], controllers: [SlowController] })
class SlowModule {}

async function startInstance(name: string) {
  instanceName = name;
  const ref = await Test.createTestingModule({ imports: [SlowModule] }).compile();
  const app = ref.createNestApplication({ logger: ['error'] });
  const server = new DrainingNatsServer({ servers: [loadConfig(natsConfig).NATS_URL], queue: 'drain-test' }, 5_000);
  app.connectMicroservice({ strategy: server });
  await app.init();
  await app.startAllMicroservices();
  return { app, server };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setImmediate(r));
}

describe('an instance shutting down over real NATS', () => {
  it('answers the requests it holds, and the other instance takes every new one', async () => {
    const first = await startInstance('first');
    const second = await startInstance('second');
    const bus = new Bus();
    try {
      // Both instances are in the queue group: send until the first one holds a request.
      const inFlight: Array<Promise<ReplyOf<'policy.credentials.list.v1'>>> = [];
      while (!held.some((h) => h.by === 'first')) {
        inFlight.push(bus.request('policy.credentials.list.v1', { user: 'hold', endpoint: 'e' }));
        await until(() => held.length >= inFlight.length);
      }
      const closing = first.app.close();
      await first.server.left;
      // While it drains, new requests are answered by the other instance only.
      const during = await Promise.all(Array.from({ length: 10 }, () => bus.request('policy.credentials.list.v1', { user: 'u', endpoint: 'e' })));
      expect(new Set(during.map((r) => r.pending[0]?.vault))).toEqual(new Set(['second']));
      for (const { release } of held.splice(0)) release();
      const answers = await Promise.all(inFlight);
      expect(answers.every((a) => a.pending[0]?.vault === 'first' || a.pending[0]?.vault === 'second')).toBe(true);
      expect(answers.some((a) => a.pending[0]?.vault === 'first')).toBe(true);
      await closing;
    } finally {
      for (const { release } of held.splice(0)) release();
      await bus.onApplicationShutdown();
      await second.app.close();
    }
  });
});
