import { Controller, Module, type INestApplication } from '@nestjs/common';
import { OpenEcmError, type ParsedRequestOf, type ReplyOf } from '@openecm/contracts';
import { Handles, MessagingModule, type Bus } from '@openecm/messaging';
import { OpsResponder } from '@openecm/service-kit';
import { NATS_URL, REDIS_URL, clearNamespaceKeys, createTestDatabase, deleteNamespaceStreams, startTestApp, testBus } from '@openecm/testing';
import { pino } from 'pino';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
process.env['RUN_RELEASE_WORKER'] = 'false';
// long enough that only an invalidation, never an expiry, can explain a change seen within the test
process.env['ACCESS_CACHE_SECONDS'] = '300';

const GROUP = 'Secure Remote Access Requesters';

/** The vault side: an empty vault, so an allowed list answers and a refused one never gets here. */
@Controller()
class EmptyVaultController {
  @Handles('vault.credentials.list.v1')
  async list(_req: ParsedRequestOf<'vault.credentials.list.v1'>): Promise<ReplyOf<'vault.credentials.list.v1'>> {
    return { credentials: [], pending: [] };
  }
}

@Module({ imports: [MessagingModule], controllers: [EmptyVaultController] })
class EmptyVaultModule {}

/**
 * Access decisions read a user's memberships from memory; removing a member through either of two
 * policy-approval instances refuses that user's next request on both, whichever answers it.
 */
describe('access decisions across policy-approval instances (real NATS, Redis, Postgres)', () => {
  let db: { url: string; drop: () => Promise<void> };
  const apps: INestApplication[] = [];
  let bus: Bus;
  const CHECKS = 12;

  beforeAll(async () => {
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const { AppModule } = await import('../src/app.module');
    for (const instance of ['pa/1', 'pa/2']) {
      const { app } = await startTestApp('policy-approval', AppModule);
      await app.get(OpsResponder).start({ service: 'policy-approval', logger: pino({ level: 'silent' }), instance });
      apps.push(app);
    }
    apps.push((await startTestApp('vault-adapters', EmptyVaultModule)).app);
    bus = testBus();
    await bus.request('policy.defaults.ensure.v1', {});
  });

  afterAll(async () => {
    await bus?.onApplicationShutdown();
    for (const app of apps) await app.close();
    await clearNamespaceKeys();
    await deleteNamespaceStreams();
    await db?.drop();
  });

  /** Enough lists that both instances of the queue group answer some; each answer's outcome. */
  async function checks(user: string): Promise<string[]> {
    const outcomes = await Promise.all(
      Array.from({ length: CHECKS }, () =>
        bus.request('policy.credentials.list.v1', { user, endpoint: 'srv-app01' }).then(
          () => 'allowed',
          (error: unknown) => (error instanceof OpenEcmError ? error.code : 'error'),
        ),
      ),
    );
    return [...new Set(outcomes)];
  }

  it('refuses a removed member at the next request on every instance, and lets an added one in', async () => {
    expect(await checks('alice')).toEqual(['ACCESS_DENIED']);
    await bus.request('policy.group-member.add.v1', { group: GROUP, user: 'alice' });
    expect(await checks('alice')).toEqual(['allowed']);
    await bus.request('policy.group-member.remove.v1', { group: GROUP, user: 'alice' });
    // without the invalidation, the instance that did not remove her would let her in for five more minutes
    expect(await checks('alice')).toEqual(['ACCESS_DENIED']);
  });

  it('refuses the one member removed, names matched as user keys are, while the others keep access', async () => {
    await bus.request('policy.group-member.add.v1', { group: GROUP, user: 'bob' });
    await bus.request('policy.group-member.add.v1', { group: GROUP, user: 'Carol' });
    expect(await checks('bob')).toEqual(['allowed']);
    expect(await checks('carol')).toEqual(['allowed']);
    await bus.request('policy.group-member.remove.v1', { group: GROUP, user: 'CAROL' });
    expect(await checks('carol')).toEqual(['ACCESS_DENIED']);
    expect(await checks('bob')).toEqual(['allowed']);
  });
});
