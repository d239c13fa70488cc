import { Controller, HttpCode, Post } from '@nestjs/common';
import type { ReplyOf } from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import { Authorize } from '../oauth/api-auth.guard';

/**
 * "Re-seal": everything sealed at rest with an older key of VAULT_SETTINGS_KEYS is sealed again with the
 * active one, so the older key can leave the keyring. Vault sessions in token-cache need no re-seal: they
 * expire within VAULT_SESSION_TTL_SECONDS.
 */
@Controller('api/v1/admin/keys')
@Authorize('admin')
export class KeysHttpController {
  constructor(private readonly bus: Bus) {}

  @Post('reseal')
  @HttpCode(200)
  reseal(): Promise<ReplyOf<'vault.keys.reseal.v1'>> {
    return this.bus.request('vault.keys.reseal.v1', {}, { timeoutMs: 120_000 });
  }
}
