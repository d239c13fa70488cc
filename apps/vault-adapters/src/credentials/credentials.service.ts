import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { loadConfig, vaultAdaptersConfig } from '@openecm/config';
import { OpenEcmError, SEAL_CONTEXTS, VaultConnectionSubmission, parseOrThrow, type ParsedRequestOf, type ReplyOf, type Secret } from '@openecm/contracts';
import { sealTo } from '@openecm/crypto';
import { ConnectionsService, connectionTimeoutMs, unreadableError, type VaultConnection } from '../connections/connections.service';
import { SealingKeys } from '../sealing/sealing-keys';
import { CheckoutRepository } from './checkout.repository';
import { VAULT_ADAPTERS, type VaultAdapter } from './vault-adapter';

/** Lists across every connected vault, and checks out / in at the vault a credential came from. */
@Injectable()
export class CredentialsService implements OnModuleInit {
  private readonly timeoutMs = loadConfig(vaultAdaptersConfig).VAULT_HTTP_TIMEOUT_MS;

  constructor(
    private readonly connections: ConnectionsService,
    private readonly checkouts: CheckoutRepository,
    private readonly keys: SealingKeys,
    @Inject(VAULT_ADAPTERS) private readonly adapters: VaultAdapter[],
  ) {}

  onModuleInit(): void {
    this.connections.onChange((name, here) => {
      for (const adapter of this.adapters) void adapter.reset(name, here ? 'here' : 'everywhere').catch(() => undefined);
    });
  }

  async list(req: ParsedRequestOf<'vault.credentials.list.v1'>): Promise<ReplyOf<'vault.credentials.list.v1'>> {
    const { connections, unreadable } = await this.connections.all();
    const results = await Promise.allSettled(
      connections.map((c) => withTimeout(this.listOne(c, req.user, req.endpoint), this.timeoutOf(c), c.name)),
    );
    const reply: ReplyOf<'vault.credentials.list.v1'> = { credentials: [], pending: [] };
    const failures: OpenEcmError[] = unreadable.map((vault) => unreadableError(vault));
    for (const vault of unreadable) reply.pending.push({ vault, reason: `VAULT_SETTINGS_UNREADABLE: ${unreadableError(vault).message}` });
    results.forEach((result, i) => {
      const vault = (connections[i] as VaultConnection).name;
      if (result.status === 'rejected') {
        const error = result.reason instanceof OpenEcmError ? result.reason : new OpenEcmError('VAULT_ERROR', 'unexpected failure');
        failures.push(error);
        reply.pending.push({ vault, reason: `${error.code}: ${error.message}` });
      } else if ('pending' in result.value) {
        reply.pending.push({ vault, ...result.value.pending });
      } else {
        reply.credentials.push(...result.value.credentials);
      }
    });
    // every vault failed: an error tells the appliance more than an empty list would
    const asked = connections.length + unreadable.length;
    if (asked > 0 && failures.length === asked) throw failures[0] as OpenEcmError;
    return reply;
  }

  /** Test Settings for settings as entered (saved or not; sealed to this service's key) or for a saved connection. */
  async test(req: ParsedRequestOf<'vault.connection.test.v1'>): Promise<ReplyOf<'vault.connection.test.v1'>> {
    const connection: VaultConnection =
      'name' in req.target
        ? await this.connections.get(req.target.name)
        : { name: 'test-settings', ...parseOrThrow(VaultConnectionSubmission, await this.keys.open(req.target.connection, SEAL_CONTEXTS.vaultTest(), 'target.connection'), 'target.connection') };
    return withTimeout(this.adapter(connection).test(connection, req.user, req.endpoint), this.timeoutOf(connection), connection.name).catch(
      (error: unknown) => {
        const err = error instanceof OpenEcmError ? error : new OpenEcmError('VAULT_ERROR', 'unexpected failure');
        return { result: 'failed' as const, step: 'connect' as const, code: err.code, message: err.message };
      },
    );
  }

  private listOne(connection: VaultConnection, user: string, endpoint: string) {
    const adapter = this.adapter(connection);
    if (adapter.listOrPending) return adapter.listOrPending(connection, user, endpoint);
    return adapter.list(connection, user, endpoint).then((credentials) => ({ credentials }));
  }

  private timeoutOf(connection: VaultConnection): number {
    return connectionTimeoutMs(connection, this.timeoutMs);
  }

  async checkout(req: ParsedRequestOf<'vault.credentials.checkout.v1'>): Promise<ReplyOf<'vault.credentials.checkout.v1'>> {
    const connection = await this.connections.get(req.vault);
    // The intent first: whatever happens from here (a crash, a lost answer), the release path finds this row.
    await this.checkouts.intend({ leaseId: req.leaseId, connection: connection.name, user: req.user, ref: req.ref, durationMinutes: req.durationMinutes });
    const out = await this.adapter(connection).checkout(connection, req, (vaultRequest) =>
      this.checkouts.record({ leaseId: req.leaseId, connection: connection.name, user: req.user, ref: req.ref, vaultRequest }),
    );
    // sealed here, to the key of the gateway instance that asked: nothing on the way can read it; the one place
    // the checked-out value leaves its SecretValue
    const secret: Secret = { type: out.secret.type, value: out.secret.value.reveal() };
    return { username: out.username, domain: out.domain, secret: await sealTo(req.sealTo, secret, SEAL_CONTEXTS.checkoutSecret(req.leaseId)) };
  }

  /** Idempotent: a lease with nothing checked out, or already checked in, answers without calling the vault. */
  async checkin(req: ParsedRequestOf<'vault.credentials.checkin.v1'>): Promise<ReplyOf<'vault.credentials.checkin.v1'>> {
    const checkout = await this.checkouts.find(req.leaseId);
    if (!checkout) return { checkedIn: false, rotationRequested: false };
    if (checkout.state === 'in') return { checkedIn: true, rotationRequested: req.rotate };
    const connection = await this.connections.get(checkout.connection);
    const adapter = this.adapter(connection);
    // A check-out whose handle was never recorded: ask the vault what it holds for it.
    const vaultRequest = checkout.vaultRequest ?? (await adapter.reclaim?.(connection, checkout));
    if (vaultRequest === undefined) {
      await this.checkouts.markCheckedIn(req.leaseId);
      return { checkedIn: false, rotationRequested: false };
    }
    const result = await adapter.checkin(connection, { ...checkout, vaultRequest }, { rotate: req.rotate, reason: req.reason });
    await this.checkouts.markCheckedIn(req.leaseId);
    return { checkedIn: true, rotationRequested: result.rotationRequested };
  }

  private adapter(connection: VaultConnection): VaultAdapter {
    const adapter = this.adapters.find((a) => a.type === connection.type);
    if (!adapter) throw new OpenEcmError('VAULT_ERROR', `no adapter for vault type ${connection.type}`);
    return adapter;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, vault: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OpenEcmError('UPSTREAM_TIMEOUT', `vault ${vault} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
