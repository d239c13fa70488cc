import { Controller } from '@nestjs/common';
import {
  OpenEcmError,
  SEAL_CONTEXTS,
  VaultConnectionSubmission,
  parseOrThrow,
  vaultUrlField,
  type ParsedRequestOf,
  type ReplyOf,
  type VaultConnectionInput,
} from '@openecm/contracts';
import { Handles } from '@openecm/messaging';
import { VaultAddressPolicy, VaultAddressRefusedError } from '@openecm/vault-sdk';
import { SealingKeys } from '../sealing/sealing-keys';
import { ConnectionsService } from './connections.service';

@Controller()
export class ConnectionsNatsController {
  constructor(
    private readonly connections: ConnectionsService,
    private readonly keys: SealingKeys,
    private readonly addresses: VaultAddressPolicy,
  ) {}

  /** The settings arrive sealed to this service's key, bound to the connection's name. */
  @Handles('vault.connection.upsert.v1')
  async upsert(req: ParsedRequestOf<'vault.connection.upsert.v1'>): Promise<ReplyOf<'vault.connection.upsert.v1'>> {
    const opened = await this.keys.open(req.connection, SEAL_CONTEXTS.vaultConnection(req.name), 'connection');
    const input = parseOrThrow(VaultConnectionSubmission, opened, 'connection');
    await this.assertReachable(input);
    return this.connections.upsert(req.name, input);
  }

  /**
   * A URL that leads to a refused address is refused when saved, naming the setting, so the mistake shows
   * where it was made. A name that does not resolve from here is saved: Test Settings reports it.
   */
  private async assertReachable(input: VaultConnectionInput): Promise<void> {
    const { field, url } = vaultUrlField(input);
    try {
      await this.addresses.check(url);
    } catch (error) {
      if (!(error instanceof VaultAddressRefusedError)) return;
      throw new OpenEcmError('VALIDATION_FAILED', `invalid connection: ${field} (${error.message})`, [{ field, message: error.message }]);
    }
  }

  @Handles('vault.connection.list.v1')
  async list(_req: ParsedRequestOf<'vault.connection.list.v1'>): Promise<ReplyOf<'vault.connection.list.v1'>> {
    return { connections: await this.connections.list() };
  }
}
