import { Controller } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Handles } from '@openecm/messaging';
import { AccessService } from './access.service';

@Controller()
export class AccessNatsController {
  constructor(private readonly access: AccessService) {}

  @Handles('policy.defaults.ensure.v1')
  ensureDefaults(_req: ParsedRequestOf<'policy.defaults.ensure.v1'>): Promise<ReplyOf<'policy.defaults.ensure.v1'>> {
    return this.access.ensureDefaults();
  }

  @Handles('policy.group-member.add.v1')
  async addMember(req: ParsedRequestOf<'policy.group-member.add.v1'>): Promise<ReplyOf<'policy.group-member.add.v1'>> {
    return { group: req.group, user: req.user, added: await this.access.addMember(req.group, req.user) };
  }

  @Handles('policy.group-member.remove.v1')
  async removeMember(req: ParsedRequestOf<'policy.group-member.remove.v1'>): Promise<ReplyOf<'policy.group-member.remove.v1'>> {
    return { group: req.group, user: req.user, removed: await this.access.removeMember(req.group, req.user) };
  }
}
