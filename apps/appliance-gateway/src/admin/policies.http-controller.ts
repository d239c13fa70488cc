import { Body, Controller, Delete, Get, Param, Put, Res } from '@nestjs/common';
import { AccessPolicyDefinition, GroupDefinition, GroupsPath, PolicyPath, parseOrThrow, type ReplyOf } from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import type { Response } from 'express';
import { Authorize } from '../oauth/api-auth.guard';

/** Access policies and the requester groups that hold them. */
@Controller('api/v1/admin')
@Authorize('admin')
export class PoliciesHttpController {
  constructor(private readonly bus: Bus) {}

  @Put('policies/:name')
  async put(@Param('name') name: string, @Body() body: unknown, @Res({ passthrough: true }) res: Response): Promise<ReplyOf<'policy.access-policy.get.v1'>> {
    const path = parseOrThrow(PolicyPath, { name }, 'path');
    const policy = parseOrThrow(AccessPolicyDefinition, body, 'request body');
    const saved = await this.bus.request('policy.access-policy.put.v1', { name: path.name, policy });
    res.status(saved.created ? 201 : 200);
    return saved.policy;
  }

  @Get('policies')
  list(): Promise<ReplyOf<'policy.access-policy.list.v1'>> {
    return this.bus.request('policy.access-policy.list.v1', {});
  }

  @Get('policies/:name')
  get(@Param('name') name: string): Promise<ReplyOf<'policy.access-policy.get.v1'>> {
    return this.bus.request('policy.access-policy.get.v1', parseOrThrow(PolicyPath, { name }, 'path'));
  }

  @Delete('policies/:name')
  delete(@Param('name') name: string): Promise<ReplyOf<'policy.access-policy.delete.v1'>> {
    return this.bus.request('policy.access-policy.delete.v1', parseOrThrow(PolicyPath, { name }, 'path'));
  }

  @Put('groups/:name')
  async putGroup(@Param('name') name: string, @Body() body: unknown, @Res({ passthrough: true }) res: Response): Promise<ReplyOf<'policy.group.put.v1'>['group']> {
    const path = parseOrThrow(GroupsPath, { name }, 'path');
    const { policies } = parseOrThrow(GroupDefinition, body, 'request body');
    const saved = await this.bus.request('policy.group.put.v1', { name: path.name, policies });
    res.status(saved.created ? 201 : 200);
    return saved.group;
  }

  @Get('groups')
  groups(): Promise<ReplyOf<'policy.group.list.v1'>> {
    return this.bus.request('policy.group.list.v1', {});
  }
}
