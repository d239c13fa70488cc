import { Controller } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Handles } from '@openecm/messaging';
import { OffersService } from './offers.service';

@Controller()
export class OffersNatsController {
  constructor(private readonly offers: OffersService) {}

  @Handles('policy.offers.record.v1')
  async record(req: ParsedRequestOf<'policy.offers.record.v1'>): Promise<ReplyOf<'policy.offers.record.v1'>> {
    return { credentials: await this.offers.record(req.user, req.endpoint, req.credentials) };
  }
}
