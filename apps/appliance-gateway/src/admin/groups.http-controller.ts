import { Body, Controller, Delete, Param, Post, Res } from '@nestjs/common';
import { SUBJECTS, UserName, parseOrThrow, type ReplyOf } from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import type { Response } from 'express';
import { z } from 'zod';
import { Authorize } from '../oauth/api-auth.guard';

const MemberPath = SUBJECTS['policy.group-member.remove.v1'].request;
const AddMemberBody = z.strictObject({ user: UserName });

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
    const { user } = parseOrThrow(AddMemberBody, body, 'request body');
    const path = parseOrThrow(MemberPath, { group, user }, 'path');
    const result = await this.bus.request('policy.group-member.add.v1', path);
    res.status(result.added ? 201 : 200);
    return result;
  }

  @Delete(':user')
  async remove(@Param('group') group: string, @Param('user') user: string): Promise<ReplyOf<'policy.group-member.remove.v1'>> {
    return this.bus.request('policy.group-member.remove.v1', parseOrThrow(MemberPath, { group, user }, 'path'));
  }
}
