import { Controller } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Handles } from '@openecm/messaging';
import { JumpItemsService } from './jump-items.service';

@Controller()
export class JumpItemsNatsController {
  constructor(private readonly jumpItems: JumpItemsService) {}

  @Handles('policy.jump-items.search.v1')
  search(req: ParsedRequestOf<'policy.jump-items.search.v1'>): Promise<ReplyOf<'policy.jump-items.search.v1'>> {
    return this.jumpItems.search(req);
  }

  @Handles('policy.jump-items.recent.v1')
  recent(req: ParsedRequestOf<'policy.jump-items.recent.v1'>): Promise<ReplyOf<'policy.jump-items.recent.v1'>> {
    return this.jumpItems.recent(req);
  }

  @Handles('policy.jump-settings.get.v1')
  getSettings(_req: ParsedRequestOf<'policy.jump-settings.get.v1'>): Promise<ReplyOf<'policy.jump-settings.get.v1'>> {
    return this.jumpItems.getSettings();
  }

  @Handles('policy.jump-settings.put.v1')
  putSettings(req: ParsedRequestOf<'policy.jump-settings.put.v1'>): Promise<ReplyOf<'policy.jump-settings.put.v1'>> {
    return this.jumpItems.putSettings(req);
  }
}
