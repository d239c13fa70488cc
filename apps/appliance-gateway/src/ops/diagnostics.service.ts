import { Injectable } from '@nestjs/common';
import { LEASE_EVENTS_STREAM, OpenEcmError, type DiagnosticsQuery, type DiagnosticsReport, type ServiceName } from '@openecm/contracts';
import { Broadcaster, Bus, NatsConnectionProvider, qualifiedStream } from '@openecm/messaging';
import { ApiAccountsService } from '../accounts/api-accounts.service';
import { evaluate, unreadable, type JetStreamState, type Outcome } from './diagnostics';

/** The services' own checks answer fast; a vault test may take as long as the vault's timeout allows. */
const QUICK_MS = 5000;
const VAULT_TEST_MS = 130_000;
const CLOCK_MS = 10_000;

async function settle<T>(work: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work };
  } catch (error) {
    const err = error instanceof OpenEcmError ? error : new OpenEcmError('INTERNAL', 'unexpected failure');
    return { ok: false, error: { code: err.code, message: err.message } };
  }
}

/**
 * Gathers what the diagnostics walk needs, asking every service at once and a service only when one of its
 * instances answered the ping (a request nobody answers would only wait for its timeout).
 */
@Injectable()
export class DiagnosticsService {
  constructor(
    private readonly bus: Bus,
    private readonly broadcaster: Broadcaster,
    private readonly nats: NatsConnectionProvider,
    private readonly accounts: ApiAccountsService,
  ) {}

  async run(query: DiagnosticsQuery): Promise<DiagnosticsReport> {
    const [jetstream, instances, accounts] = await Promise.all([
      settle(this.jetstream()),
      settle(this.broadcaster.gather('ops.instance.ping.v1', {})),
      this.accounts.list(),
    ]);
    const running = (service: ServiceName) => instances.ok && instances.value.some((i) => i.service === service);
    const [vaults, keyring, appliance] = await Promise.all([
      running('vault-adapters') ? settle(this.bus.request('vault.connection.list.v1', {}, { timeoutMs: QUICK_MS }).then((r) => r.connections)) : undefined,
      // token-cache answers vault-adapters alone, which relays its keyring check
      running('token-cache') && running('vault-adapters')
        ? settle(this.bus.request('vault.session-keyring.check.v1', {}, { timeoutMs: QUICK_MS }))
        : undefined,
      running('session-reporting') ? settle(this.bus.request('reporting.appliance.get.v1', {}, { timeoutMs: QUICK_MS })) : undefined,
    ]);
    const names = vaults?.ok ? vaults.value.filter((v) => !unreadable(v)).map((v) => v.name) : [];
    const target = query.user && query.endpoint ? { user: query.user, endpoint: query.endpoint } : undefined;
    const [tests, clocks] = await Promise.all([
      Promise.all(
        names.map(async (name) => {
          if (!target) return [name, undefined] as const;
          return [name, await settle(this.bus.request('vault.connection.test.v1', { target: { name }, ...target }, { timeoutMs: VAULT_TEST_MS }))] as const;
        }),
      ),
      Promise.all(names.map(async (name) => [name, await settle(this.bus.request('vault.clock.check.v1', { name }, { timeoutMs: CLOCK_MS }))] as const)),
    ]);
    return evaluate({
      jetstream,
      instances,
      ...(vaults ? { vaults } : {}),
      ...(keyring ? { keyring } : {}),
      ...(appliance ? { appliance } : {}),
      accounts,
      ...(target ? { target } : {}),
      tests: Object.fromEntries(tests.filter((t): t is [string, NonNullable<(typeof t)[1]>] => t[1] !== undefined)),
      clocks: Object.fromEntries(clocks),
    });
  }

  private async jetstream(): Promise<JetStreamState> {
    const leaseStream = qualifiedStream(LEASE_EVENTS_STREAM);
    let jsm;
    try {
      const nc = await this.nats.get();
      jsm = await nc.jetstreamManager({ timeout: QUICK_MS });
      await jsm.getAccountInfo();
    } catch (error) {
      throw new OpenEcmError('SERVICE_UNAVAILABLE', `JetStream did not answer (${(error as { code?: string }).code ?? 'no code'})`);
    }
    const leaseStreamPresent = await jsm.streams.info(leaseStream).then(
      () => true,
      () => false,
    );
    return { leaseStream, leaseStreamPresent };
  }
}
