import { Controller } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Handles } from '@openecm/messaging';
import { ConnectionsService } from '../connections/connections.service';
import { readVaultClock } from './clock';

const CLOCK_TIMEOUT_MS = 5000;

@Controller()
export class DiagnosticsNatsController {
  constructor(private readonly connections: ConnectionsService) {}

  @Handles('vault.clock.check.v1')
  async clock(req: ParsedRequestOf<'vault.clock.check.v1'>): Promise<ReplyOf<'vault.clock.check.v1'>> {
    return readVaultClock(await this.connections.get(req.name), CLOCK_TIMEOUT_MS);
  }
}
