import { Controller } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Handles } from '@openecm/messaging';
import { CheckoutSweepService } from './checkout-sweep.service';

@Controller()
export class CheckoutSweepNatsController {
  constructor(private readonly sweeps: CheckoutSweepService) {}

  @Handles('vault.checkouts.sweep.v1')
  sweep(req: ParsedRequestOf<'vault.checkouts.sweep.v1'>): Promise<ReplyOf<'vault.checkouts.sweep.v1'>> {
    return this.sweeps.sweep(req);
  }
}
