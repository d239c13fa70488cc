import { Controller } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Handles } from '@openecm/messaging';
import { ApplianceConnections } from './appliance-connection.service';
import { ApplianceKeys } from './appliance-keys';

@Controller()
export class ApplianceNatsController {
  constructor(
    private readonly connections: ApplianceConnections,
    private readonly keys: ApplianceKeys,
  ) {}

  @Handles('reporting.sealing-key.get.v1')
  async sealingKey(_req: ParsedRequestOf<'reporting.sealing-key.get.v1'>): Promise<ReplyOf<'reporting.sealing-key.get.v1'>> {
    return this.keys.publicKey();
  }

  @Handles('reporting.appliance.get.v1')
  get(_req: ParsedRequestOf<'reporting.appliance.get.v1'>): Promise<ReplyOf<'reporting.appliance.get.v1'>> {
    return this.connections.view();
  }

  @Handles('reporting.appliance.put.v1')
  put(req: ParsedRequestOf<'reporting.appliance.put.v1'>): Promise<ReplyOf<'reporting.appliance.put.v1'>> {
    return this.connections.put(req.connection);
  }
}
