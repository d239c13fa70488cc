import { Controller } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Handles } from '@openecm/messaging';
import { SystemsService } from './systems.service';

@Controller()
export class SystemsNatsController {
  constructor(private readonly systems: SystemsService) {}

  @Handles('vault.systems.search.v1')
  search(req: ParsedRequestOf<'vault.systems.search.v1'>): Promise<ReplyOf<'vault.systems.search.v1'>> {
    return this.systems.search(req);
  }
}
