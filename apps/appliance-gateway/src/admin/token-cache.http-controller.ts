import { Controller, Delete, Query } from '@nestjs/common';
import { TokenCacheQuery, parseOrThrow, type ReplyOf } from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import { Authorize } from '../oauth/api-auth.guard';

/**
 * "Clear Token Cache": all vault sessions, one vault's, or one user's; the next call signs in anew. Asked of
 * vault-adapters, the only service token-cache answers.
 */
@Controller('api/v1/admin/token-cache')
@Authorize('admin')
export class TokenCacheHttpController {
  constructor(private readonly bus: Bus) {}

  @Delete()
  clear(@Query() query: Record<string, unknown>): Promise<ReplyOf<'vault.sessions.clear.v1'>> {
    return this.bus.request('vault.sessions.clear.v1', parseOrThrow(TokenCacheQuery, { ...query }, 'query'));
  }
}
