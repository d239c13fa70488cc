import { Controller } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Handles } from '@openecm/messaging';
import { PoliciesService } from './policies.service';

@Controller()
export class PoliciesNatsController {
  constructor(private readonly policies: PoliciesService) {}

  @Handles('policy.access-policy.put.v1')
  put(req: ParsedRequestOf<'policy.access-policy.put.v1'>): Promise<ReplyOf<'policy.access-policy.put.v1'>> {
    return this.policies.put(req.name, req.policy);
  }

  @Handles('policy.access-policy.get.v1')
  get(req: ParsedRequestOf<'policy.access-policy.get.v1'>): Promise<ReplyOf<'policy.access-policy.get.v1'>> {
    return this.policies.get(req.name);
  }

  @Handles('policy.access-policy.list.v1')
  async list(_req: ParsedRequestOf<'policy.access-policy.list.v1'>): Promise<ReplyOf<'policy.access-policy.list.v1'>> {
    return { policies: await this.policies.list() };
  }

  @Handles('policy.access-policy.delete.v1')
  async delete(req: ParsedRequestOf<'policy.access-policy.delete.v1'>): Promise<ReplyOf<'policy.access-policy.delete.v1'>> {
    await this.policies.delete(req.name);
    return { name: req.name, deleted: true };
  }

  @Handles('policy.group.put.v1')
  putGroup(req: ParsedRequestOf<'policy.group.put.v1'>): Promise<ReplyOf<'policy.group.put.v1'>> {
    return this.policies.putGroup(req.name, req.policies);
  }

  @Handles('policy.group.list.v1')
  async groups(_req: ParsedRequestOf<'policy.group.list.v1'>): Promise<ReplyOf<'policy.group.list.v1'>> {
    return { groups: await this.policies.groups() };
  }
}
