import { Body, Controller, Get, Put, Query } from '@nestjs/common';
import {
  JumpItemSettings,
  JumpItemsQuery,
  RecentJumpItemsQuery,
  parseOrThrow,
  type JumpItemList,
  type RecentJumpItems,
  type ReplyOf,
} from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import { Authorize } from '../oauth/api-auth.guard';

/**
 * External jump items, what the access console searches when a user types in it: one call to policy-approval,
 * which decides and asks the vaults. Nothing here or there stores a vault's inventory.
 */
@Controller('api/v1/jump-items')
@Authorize('credentials')
export class JumpItemsHttpController {
  constructor(private readonly bus: Bus) {}

  @Get()
  search(@Query() query: unknown): Promise<JumpItemList> {
    return this.bus.request('policy.jump-items.search.v1', parseOrThrow(JumpItemsQuery, query, 'query'));
  }

  @Get('recent')
  recent(@Query() query: unknown): Promise<RecentJumpItems> {
    return this.bus.request('policy.jump-items.recent.v1', parseOrThrow(RecentJumpItemsQuery, query, 'query'));
  }
}

/** The appliance-side settings: Allow Search for External Jump Items, its Jumpoint and group name. */
@Controller('api/v1/admin/jump-items')
@Authorize('admin')
export class JumpItemSettingsHttpController {
  constructor(private readonly bus: Bus) {}

  @Get()
  get(): Promise<ReplyOf<'policy.jump-settings.get.v1'>> {
    return this.bus.request('policy.jump-settings.get.v1', {});
  }

  @Put()
  put(@Body() body: unknown): Promise<ReplyOf<'policy.jump-settings.put.v1'>> {
    return this.bus.request('policy.jump-settings.put.v1', parseOrThrow(JumpItemSettings, body, 'request body'));
  }
}
