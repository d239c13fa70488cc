import { Inject, Injectable } from '@nestjs/common';
import { loadConfig, natsConfig, vaultAdaptersConfig } from '@openecm/config';
import { OpenEcmError, type ParsedRequestOf, type ReplyOf } from '@openecm/contracts';
import { ConnectionsService, connectionTimeoutMs, unreadableError, type VaultConnection } from '../connections/connections.service';
import { VAULT_ADAPTERS, type VaultAdapter } from '../credentials/vault-adapter';
import { withTimeout, type SystemsOrPending } from './systems';

/**
 * External jump items at the vaults: every connected vault searched at once, each within its timeout, as the user
 * where the vault allows. A vault that fails, is slow, or waits for the user's approval is reported in `pending`
 * and the others answer; unlike a credential list, a search where every vault failed is still an answer.
 */
@Injectable()
export class SystemsService {
  private readonly timeoutMs = loadConfig(vaultAdaptersConfig).VAULT_HTTP_TIMEOUT_MS;
  /** A search answers within its caller's wait, so that a slow vault is `pending` rather than the whole search timing out. */
  private readonly budgetMs = Math.max(1000, loadConfig(natsConfig).NATS_REQUEST_TIMEOUT_MS - 2000);

  constructor(
    private readonly connections: ConnectionsService,
    @Inject(VAULT_ADAPTERS) private readonly adapters: VaultAdapter[],
  ) {}

  async search(req: ParsedRequestOf<'vault.systems.search.v1'>): Promise<ReplyOf<'vault.systems.search.v1'>> {
    const { connections, unreadable } = await this.connections.all();
    const skip = new Set(req.skip);
    const reply: ReplyOf<'vault.systems.search.v1'> = { vaults: [], pending: [], connected: connections.map((c) => c.name) };
    for (const vault of unreadable) {
      if (!skip.has(vault)) reply.pending.push({ vault, reason: `VAULT_SETTINGS_UNREADABLE: ${unreadableError(vault).message}` });
    }
    const asked = connections.filter((c) => !skip.has(c.name));
    const results = await Promise.allSettled(asked.map((c) => withTimeout(this.searchOne(c, req.user, req.search, req.limit), Math.min(this.timeoutOf(c), this.budgetMs), c.name)));
    results.forEach((result, i) => {
      const vault = (asked[i] as VaultConnection).name;
      if (result.status === 'rejected') {
        const error = result.reason instanceof OpenEcmError ? result.reason : new OpenEcmError('VAULT_ERROR', 'unexpected failure');
        reply.pending.push({ vault, reason: `${error.code}: ${error.message}` });
      } else if ('pending' in result.value) {
        reply.pending.push({ vault, ...result.value.pending });
      } else {
        reply.vaults.push({ vault, systems: result.value.systems, truncated: result.value.truncated });
      }
    });
    return reply;
  }

  private async searchOne(connection: VaultConnection, user: string, search: string, limit: number): Promise<SystemsOrPending> {
    const adapter = this.adapters.find((a) => a.type === connection.type);
    if (!adapter?.searchSystems) return { systems: [], truncated: false };
    return adapter.searchSystems(connection, user, search, limit);
  }

  private timeoutOf(connection: VaultConnection): number {
    return connectionTimeoutMs(connection, this.timeoutMs);
  }
}
