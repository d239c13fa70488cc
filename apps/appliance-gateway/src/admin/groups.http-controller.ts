import { Body, Controller, Delete, Param, Post, Res } from '@nestjs/common';
import { GroupMemberPath, GroupMemberRequest, GroupPath, parseOrThrow, type ReplyOf } from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import type { Response } from 'express';
import { Authorize } from '../oauth/api-auth.guard';

/** Who may request credentials: members of requester groups. A `DOMAIN\user` name travels URL-encoded in the path. */
@Controller('api/v1/admin/groups/:group/members')
@Authorize('admin')
export class GroupsHttpController {
  constructor(private readonly bus: Bus) {}

  @Post()
  async add(
    @Param('group') group: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ReplyOf<'policy.group-member.add.v1'>> {
    const path = parseOrThrow(GroupPath, { group }, 'path');
    const { user } = parseOrThrow(GroupMemberRequest, body, 'request body');
    const result = await this.bus.request('policy.group-member.add.v1', { group: path.group, user });
    res.status(result.added ? 201 : 200);
    return result;
  }

  @Delete(':user')
  async remove(@Param('group') group: string, @Param('user') user: string): Promise<ReplyOf<'policy.group-member.remove.v1'>> {
    return this.bus.request('policy.group-member.remove.v1', parseOrThrow(GroupMemberPath, { group, user }, 'path'));
  }
}
