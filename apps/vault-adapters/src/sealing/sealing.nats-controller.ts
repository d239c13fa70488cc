import { Controller } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Handles } from '@openecm/messaging';
import { SealingKeys } from './sealing-keys';

@Controller()
export class SealingNatsController {
  constructor(private readonly keys: SealingKeys) {}

  @Handles('vault.sealing-key.get.v1')
  async publicKey(_req: ParsedRequestOf<'vault.sealing-key.get.v1'>): Promise<ReplyOf<'vault.sealing-key.get.v1'>> {
    return this.keys.publicKey();
  }
}
