import { Controller } from '@nestjs/common';
import type { ParsedRequestOf, ReplyOf } from '@openecm/contracts';
import { Bus, Handles } from '@openecm/messaging';
import { VaultSessionCache } from './vault-session-cache';

/** Inside the gateway's 5 s for a diagnostics check, so the caller hears token-cache's own failure. */
const KEYRING_CHECK_MS = 4000;

/**
 * What the admin API and the diagnostics need of the vault sessions, answered here: only vault-adapters may
 * talk to token-cache, so nobody else can read a stored session or plant one.
 */
@Controller()
export class SessionsNatsController {
  constructor(
    private readonly sessions: VaultSessionCache,
    private readonly bus: Bus,
  ) {}

  @Handles('vault.sessions.clear.v1')
  async clear(req: ParsedRequestOf<'vault.sessions.clear.v1'>): Promise<ReplyOf<'vault.sessions.clear.v1'>> {
    return { deleted: await this.sessions.forget(req.vault, req.user) };
  }

  @Handles('vault.session-keyring.check.v1')
  keyring(_req: ParsedRequestOf<'vault.session-keyring.check.v1'>): Promise<ReplyOf<'vault.session-keyring.check.v1'>> {
    return this.bus.request('token.keyring.check.v1', {}, { timeoutMs: KEYRING_CHECK_MS });
  }
}
