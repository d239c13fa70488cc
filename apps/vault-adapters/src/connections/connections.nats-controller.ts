import { Controller } from '@nestjs/common';
import { SEAL_CONTEXTS, VaultConnectionInput, parseOrThrow, type ParsedRequestOf, type ReplyOf } from '@openecm/contracts';
import { Handles } from '@openecm/messaging';
import { SealingKeys } from '../sealing/sealing-keys';
import { ConnectionsService } from './connections.service';

@Controller()
export class ConnectionsNatsController {
  constructor(
    private readonly connections: ConnectionsService,
    private readonly keys: SealingKeys,
  ) {}

  /** The settings arrive sealed to this service's key, bound to the connection's name. */
  @Handles('vault.connection.upsert.v1')
  async upsert(req: ParsedRequestOf<'vault.connection.upsert.v1'>): Promise<ReplyOf<'vault.connection.upsert.v1'>> {
    const opened = await this.keys.open(req.connection, SEAL_CONTEXTS.vaultConnection(req.name), 'connection');
    return this.connections.upsert(req.name, parseOrThrow(VaultConnectionInput, opened, 'connection'));
  }

  @Handles('vault.connection.list.v1')
  async list(_req: ParsedRequestOf<'vault.connection.list.v1'>): Promise<ReplyOf<'vault.connection.list.v1'>> {
    return { connections: await this.connections.list() };
  }
}
