import { Controller } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Handles } from '@openecm/messaging';
import { ResealService } from './reseal.service';

@Controller()
export class KeysNatsController {
  constructor(private readonly reseal: ResealService) {}

  @Handles('vault.keys.reseal.v1')
  async resealAll(_req: ParsedRequestOf<'vault.keys.reseal.v1'>): Promise<ReplyOf<'vault.keys.reseal.v1'>> {
    return this.reseal.reseal();
  }
}
