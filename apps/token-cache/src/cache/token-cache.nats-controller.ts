import { Controller } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Handles } from '@openecm/messaging';
import { TokenCacheService } from './token-cache.service';

@Controller()
export class TokenCacheNatsController {
  constructor(private readonly cache: TokenCacheService) {}

  @Handles('token.cache.get.v1')
  async get(req: ParsedRequestOf<'token.cache.get.v1'>): Promise<ReplyOf<'token.cache.get.v1'>> {
    return { value: await this.cache.get(req.vault, req.user, req.slideTtlSeconds) };
  }

  @Handles('token.cache.put.v1')
  async put(req: ParsedRequestOf<'token.cache.put.v1'>): Promise<ReplyOf<'token.cache.put.v1'>> {
    await this.cache.put(req.vault, req.user, req.value, req.ttlSeconds);
    return { stored: true };
  }

  @Handles('token.cache.claim.v1')
  claim(req: ParsedRequestOf<'token.cache.claim.v1'>): Promise<ReplyOf<'token.cache.claim.v1'>> {
    return this.cache.claim(req.vault, req.user, req);
  }

  @Handles('token.cache.abandon.v1')
  async abandon(req: ParsedRequestOf<'token.cache.abandon.v1'>): Promise<ReplyOf<'token.cache.abandon.v1'>> {
    return { released: await this.cache.abandon(req.vault, req.user) };
  }

  @Handles('token.keyring.check.v1')
  checkKeyring(_req: ParsedRequestOf<'token.keyring.check.v1'>): Promise<ReplyOf<'token.keyring.check.v1'>> {
    return this.cache.checkKeyring();
  }

  @Handles('token.cache.delete.v1')
  async delete(req: ParsedRequestOf<'token.cache.delete.v1'>): Promise<ReplyOf<'token.cache.delete.v1'>> {
    return { deleted: await this.cache.delete(req.vault, req.user) };
  }
}
