import { Controller } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Handles } from '@openecm/messaging';
import { ConnectionsService } from './connections.service';

@Controller()
export class ConnectionsNatsController {
  constructor(private readonly connections: ConnectionsService) {}

  @Handles('vault.connection.upsert.v1')
  upsert(req: ParsedRequestOf<'vault.connection.upsert.v1'>): Promise<ReplyOf<'vault.connection.upsert.v1'>> {
    return this.connections.upsert(req.name, req.connection);
  }

  @Handles('vault.connection.list.v1')
  async list(_req: ParsedRequestOf<'vault.connection.list.v1'>): Promise<ReplyOf<'vault.connection.list.v1'>> {
    return { connections: await this.connections.list() };
  }
}
