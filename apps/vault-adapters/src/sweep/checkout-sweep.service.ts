import { Inject, Injectable, Logger } from '@nestjs/common';
import { loadConfig, vaultAdaptersConfig } from '@openecm/config';
import { OpenEcmError, type ParsedRequestOf, type ReplyOf, type VaultSweepCounts } from '@openecm/contracts';
import { ConnectionsService, type VaultConnection } from '../connections/connections.service';
import { CheckoutRepository, type SweptCheckout } from '../credentials/checkout.repository';
import { VAULT_ADAPTERS, type HeldCheckout, type VaultAdapter } from '../credentials/vault-adapter';
import { mapLimit } from '../systems/systems';

/** Identities of one connection swept at once, so a sweep never floods a vault with sign-ins. */
const IDENTITY_CONCURRENCY = 4;

/**
 * The vault-side sweep (ADR 9): asks each vault what OpenECM's identities hold there and checks in what no
 * lease policy-approval still holds owns, once it is older than VAULT_SWEEP_GRACE_MS. It is the defence for
 * what the records do not know: a crash between the vault's answer and the record, a restored database, a
 * request made by hand with the API account. It answers counts only: a vault's handle (a Password Safe request
 * id) is a bearer capability and is never logged, traced or answered. Idempotent, and two at once are harmless:
 * a check-in of something already ended counts as done.
 */
@Injectable()
export class CheckoutSweepService {
  private readonly logger = new Logger('checkout-sweep');
  private readonly config = loadConfig(vaultAdaptersConfig);

  constructor(
    private readonly connections: ConnectionsService,
    private readonly checkouts: CheckoutRepository,
    @Inject(VAULT_ADAPTERS) private readonly adapters: VaultAdapter[],
  ) {}

  async sweep(req: ParsedRequestOf<'vault.checkouts.sweep.v1'>): Promise<ReplyOf<'vault.checkouts.sweep.v1'>> {
    const held = new Set(req.leaseIds);
    const { connections, unreadable } = await this.connections.all();
    const vaults: VaultSweepCounts[] = unreadable.map((vault) => ({ ...zero(vault), error: 'VAULT_SETTINGS_UNREADABLE' }));
    // one vault after the other: a sweep is background work, never a burst
    for (const connection of connections) {
      // one vault's failure (its records unreadable now, say) is its own: the others are still swept
      vaults.push(await this.sweepOne(connection, held).catch((error: unknown) => ({ ...zero(connection.name), error: codeOf(error) })));
    }
    return { vaults };
  }

  private async sweepOne(connection: VaultConnection, leases: ReadonlySet<string>): Promise<VaultSweepCounts> {
    const counts = zero(connection.name);
    const adapter = this.adapters.find((a) => a.type === connection.type);
    if (!adapter) return { ...counts, error: 'VAULT_ERROR' };
    const rows = await this.checkouts.forSweep(connection.name, this.config.VAULT_SWEEP_LOOKBACK_DAYS);
    const youngSince = Date.now() - this.config.VAULT_SWEEP_GRACE_MS;
    const owners = ownership(rows, leases, youngSince, (ref) => adapter.targetOf(ref));
    const identities = adapter.sweepIdentities(connection, rows.map((r) => r.user));
    const errors: string[] = [];

    await mapLimit(identities, IDENTITY_CONCURRENCY, async (identity) => {
      const candidates = rows.filter((r) => isShared(identity) || sameUser(r.user, identity)).flatMap((r) => (r.vaultRequest === undefined ? [] : [r.vaultRequest]));
      let found: HeldCheckout[];
      try {
        found = await adapter.held(connection, identity, candidates);
      } catch (error) {
        errors.push(codeOf(error));
        return;
      }
      for (const item of found) {
        counts.held += 1;
        if (owners.owns(item, identity)) {
          counts.owned += 1;
          continue;
        }
        // named by a record inside the grace period (a check-out in flight, perhaps reusing an older request), or
        // begun inside it by the vault's clock; undated by the vault, the records' age stands in, and what is
        // neither dated nor recorded is never touched
        const young =
          owners.isYoung(item.handle) || (item.ageMs === undefined ? !owners.isRecorded(item.handle) : item.ageMs < this.config.VAULT_SWEEP_GRACE_MS);
        if (young) {
          counts.young += 1;
          continue;
        }
        try {
          await adapter.release(connection, identity, item.handle);
          counts.checkedIn += 1;
          await this.checkouts.markHandleCheckedIn(owners.leasesOf(item.handle));
        } catch (error) {
          counts.failed += 1;
          errors.push(codeOf(error));
        }
      }
    });

    const result = { ...counts, error: errors[0] ?? null };
    this.logger.log({ ...counts, identities: identities.length, errors: errors.length }, 'vault sweep');
    return result;
  }
}

export interface Ownership {
  /** Held by a lease policy-approval still holds, or by a check-out still inside the grace period. */
  owns(item: HeldCheckout, identity: string): boolean;
  /** A handle a check-out inside the grace period, not yet checked in, names. */
  isYoung(handle: string): boolean;
  isRecorded(handle: string): boolean;
  /** The leases whose records name this handle, to mark them checked in. */
  leasesOf(handle: string): string[];
}

/**
 * Who owns what, from the records: a handle named by a lease still held; for a check-out of a held lease whose
 * handle was never recorded (the answer was lost), whatever the same user holds of the same target.
 */
export function ownership(rows: readonly SweptCheckout[], leases: ReadonlySet<string>, youngSince: number, targetOf: (ref: SweptCheckout['ref']) => string | undefined): Ownership {
  const ownedHandles = new Set<string>();
  /** target -> the users (lower-cased) whose unrecorded check-outs of it are still owned */
  const ownedTargets = new Map<string, Set<string>>();
  const young = new Set<string>();
  const byHandle = new Map<string, string[]>();
  for (const row of rows) {
    // checked in, a record protects nothing; made inside the grace period and not yet checked in, it may be a
    // check-out in flight
    const open = row.state !== 'in';
    const inFlight = open && row.createdAt.getTime() > youngSince;
    const held = open && leases.has(row.leaseId);
    if (row.vaultRequest !== undefined) {
      byHandle.set(row.vaultRequest, [...(byHandle.get(row.vaultRequest) ?? []), row.leaseId]);
      if (inFlight) young.add(row.vaultRequest);
      if (held) ownedHandles.add(row.vaultRequest);
    } else if (held || inFlight) {
      const target = targetOf(row.ref);
      if (target !== undefined) ownedTargets.set(target, (ownedTargets.get(target) ?? new Set()).add(row.user.trim().toLowerCase()));
    }
  }
  return {
    owns: (item, identity) => {
      if (ownedHandles.has(item.handle)) return true;
      const users = item.target === undefined ? undefined : ownedTargets.get(item.target);
      return users !== undefined && (isShared(identity) || users.has(identity.trim().toLowerCase()));
    },
    isYoung: (handle) => young.has(handle),
    isRecorded: (handle) => byHandle.has(handle),
    leasesOf: (handle) => byHandle.get(handle) ?? [],
  };
}

/** The application or API account, signed in as for every user (VaultAdapter.sweepIdentities names it with a leading `*`). */
function isShared(identity: string): boolean {
  return identity.startsWith('*');
}

function sameUser(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

function zero(vault: string): VaultSweepCounts {
  return { vault, held: 0, owned: 0, young: 0, checkedIn: 0, failed: 0, error: null };
}

/** An error's code only: its message may name the vault's answer, and a sweep's answer and log carry no more. */
function codeOf(error: unknown): string {
  return error instanceof OpenEcmError ? error.code : 'VAULT_ERROR';
}
