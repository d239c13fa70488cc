import type { INestApplication } from '@nestjs/common';
import type { Bus } from '@openecm/messaging';
import { SEAL_CONTEXTS } from '@openecm/contracts';
import { NATS_URL, REDIS_URL, clearNamespaceKeys, createTestDatabase, sealedForVaultAdapters, startTestApp, testBus, testKey, waitFor } from '@openecm/testing';
import { createSecretServerSim, type HostileAnswer, type SecretServerSim } from '../../../tools/secret-server-sim/src/sim';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
process.env['TOKEN_CACHE_KEYS'] = `k1:${testKey()}`;
process.env['VAULT_SETTINGS_KEYS'] = `v1:${testKey()}`;
process.env['VAULT_ALLOWED_ADDRESSES'] = '127.0.0.1';
process.env['VAULT_RETRY_BASE_DELAY_MS'] = '5';
// below the simulator's 5 MiB answer and the 4 MiB default, so the test shows the setting is the one in force
process.env['VAULT_MAX_RESPONSE_BYTES'] = String(3 * 1024 * 1024);

const OTHER_LISTS = 20;
/** How long the simulator holds the hostile answer back: the other user's lists are sent, and answered, while it is due. */
const HOLD_MS = 2_000;

describe('vault-adapters given a hostile Secret Server answer (simulator over HTTP, real NATS, Redis, Postgres)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let vaultApp: INestApplication;
  let cacheApp: INestApplication;
  let bus: Bus;
  let sim: SecretServerSim;
  let daveNames: string[];

  const list = (user: string) => bus.request('vault.credentials.list.v1', { user, endpoint: 'srv-app01' });
  const names = (answer: { credentials: Array<{ name: string }> }) => answer.credentials.map((c) => c.name).sort();

  beforeAll(async () => {
    sim = createSecretServerSim();
    const baseUrl = await sim.listen(0);
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const vault = await import('../src/app.module');
    const cache = await import('../../token-cache/src/app.module');
    ({ app: vaultApp } = await startTestApp('vault-adapters', vault.AppModule));
    ({ app: cacheApp } = await startTestApp('token-cache', cache.AppModule));
    bus = testBus();
    await bus.request('vault.connection.upsert.v1', {
      name: 'ss',
      connection: await sealedForVaultAdapters(bus, {
        type: 'secret-server',
        settings: {
          endpointUrl: `${baseUrl}/webservices/SSWebService.asmx`, allowInsecureHttp: true,
          apiUser: 'openecm-api',
          apiPassword: 'openecm-api-demo-pass',
          // alice is CORP\alice, dave a local user
          defaultDomainForLocalUsers: 'CORP',
          fallBackToLocalAccount: true,
          releaseDurationMinutes: 30,
        },
      }, SEAL_CONTEXTS.vaultConnection('ss')),
    });
    // both users signed in and impersonated, so each list below is one search and its reads
    expect(names(await list('alice'))).toContain('srv-app01 Administrator');
    daveNames = names(await list('dave'));
    expect(daveNames).toContain('srv-app01 Administrator');
  });

  afterAll(async () => {
    await bus?.onApplicationShutdown();
    await vaultApp?.close();
    await cacheApp?.close();
    await db?.drop();
    await sim?.close();
    await clearNamespaceKeys();
  });

  it.each<[HostileAnswer, RegExp]>([
    ['attributes', /^Secret Server answered SOAP SearchSecretsByFieldValue with unreadable XML \(Too many attributes on an element \(line 1, position \d+\)\)$/],
    ['namespaces', /^Secret Server answered SOAP SearchSecretsByFieldValue with unreadable XML \(Too many namespace declarations \(line 1, position \d+\)\)$/],
    ['oversized', /^Secret Server answered SOAP SearchSecretsByFieldValue with more than 3145728 bytes, the limit for one answer$/],
  ])('fails the list that got the %s answer with VAULT_ERROR, once, while another user on the same instance is answered', async (hostile, message) => {
    const before = sim.state.stats();
    sim.state.addFault({ count: 1, hostile, operation: 'SearchSecretsByFieldValue', delayMs: HOLD_MS });
    let aliceSettled = false;
    const alice = list('alice').then(
      () => {
        throw new Error('the hostile answer was listed');
      },
      (error: unknown) => {
        aliceSettled = true;
        return error;
      },
    );
    // alice's search holds the fault: every search from here on is answered as usual
    await waitFor(() => sim.state.stats().faultsPending === 0, { what: 'the hostile answer taken by the first search' });
    expect(aliceSettled).toBe(false);
    const others = await Promise.all(Array.from({ length: OTHER_LISTS }, () => list('dave')));
    // none of them waited for the hostile call
    expect(aliceSettled).toBe(false);
    for (const answer of others) {
      expect(answer.pending).toEqual([]);
      expect(names(answer)).toEqual(daveNames);
    }
    const failure = await alice;
    expect(failure).toMatchObject({ code: 'VAULT_ERROR', message: expect.stringMatching(message) });
    expect(JSON.stringify(failure)).not.toMatch(/a64=|urn:hostile|xxxx/);
    // refused, not retried: one hostile search, and the others' searches went to the vault as usual
    const after = sim.state.stats();
    expect(after.faultsServed - before.faultsServed).toBe(1);
    expect((after.soapCalls['SearchSecretsByFieldValue'] ?? 0) - (before.soapCalls['SearchSecretsByFieldValue'] ?? 0)).toBe(OTHER_LISTS);
    // and alice's next list is answered
    expect(names(await list('alice'))).toContain('srv-app01 Administrator');
  });
});
