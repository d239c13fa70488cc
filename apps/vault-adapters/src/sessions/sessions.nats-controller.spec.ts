import { OpenEcmError } from '@openecm/contracts';
import type { Bus } from '@openecm/messaging';
import { SessionsNatsController } from './sessions.nats-controller';
import type { VaultSessionCache } from './vault-session-cache';

// @Handles answers with the envelope the caller's Bus opens
describe('the vault sessions asked of vault-adapters', () => {
  const forget = jest.fn<Promise<number>, [string | undefined, string | undefined]>();
  const request = jest.fn();
  const controller = new SessionsNatsController({ forget } as unknown as VaultSessionCache, { request } as unknown as Bus);

  beforeEach(() => {
    forget.mockReset();
    request.mockReset();
  });

  it('clears the sessions selected, through token-cache, and says how many went', async () => {
    forget.mockResolvedValue(3);
    await expect(controller.clear({ vault: 'ps', user: 'alice' })).resolves.toEqual({ ok: true, data: { deleted: 3 } });
    expect(forget).toHaveBeenCalledWith('ps', 'alice');
    forget.mockResolvedValue(0);
    await expect(controller.clear({})).resolves.toEqual({ ok: true, data: { deleted: 0 } });
    expect(forget).toHaveBeenLastCalledWith(undefined, undefined);
  });

  it("relays token-cache's keyring check within the diagnostics' time, and its failure as it came", async () => {
    const answer = { keyId: 'k1', canary: true, sampled: 4, unreadable: 0 };
    request.mockResolvedValue(answer);
    await expect(controller.keyring({})).resolves.toEqual({ ok: true, data: answer });
    expect(request).toHaveBeenCalledWith('token.keyring.check.v1', {}, { timeoutMs: 4000 });
    request.mockRejectedValue(new OpenEcmError('SERVICE_UNAVAILABLE', 'the cache is out of reach'));
    await expect(controller.keyring({})).resolves.toMatchObject({ ok: false, error: { code: 'SERVICE_UNAVAILABLE' } });
  });
});
