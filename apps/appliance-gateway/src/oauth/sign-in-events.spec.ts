import { Logger } from '@nestjs/common';
import { SignInEvents, type FailedSignIn } from './sign-in-events';

describe('failed sign-ins', () => {
  afterEach(() => jest.restoreAllMocks());

  it('logs one structured line with the client id and source, and awaits every subscriber', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const events = new SignInEvents();
    const seen: FailedSignIn[] = [];
    let committed = false;
    events.onFailure(async (failure) => {
      await Promise.resolve();
      seen.push(failure);
      committed = true;
    });
    await events.failed({ clientId: 'pra-site-1', address: '192.0.2.7', reason: 'invalid-credentials' });
    expect(committed).toBe(true);
    expect(seen).toEqual([{ clientId: 'pra-site-1', address: '192.0.2.7', reason: 'invalid-credentials', at: expect.any(String) }]);
    expect(warn).toHaveBeenCalledWith({ event: 'sign-in.failed', clientId: 'pra-site-1', address: '192.0.2.7', reason: 'invalid-credentials', msg: 'sign-in failed' });
  });

  it('goes on when a subscriber fails, and stops calling one that unsubscribed', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const events = new SignInEvents();
    const calls: string[] = [];
    events.onFailure(() => {
      throw new Error('audit store down: secret-looking text');
    });
    const off = events.onFailure(() => void calls.push('second'));
    await expect(events.failed({ clientId: null, address: '192.0.2.7', reason: 'missing-credentials' })).resolves.toBeUndefined();
    expect(calls).toEqual(['second']);
    expect(JSON.stringify(error.mock.calls)).not.toContain('secret-looking');
    off();
    await events.failed({ clientId: null, address: '192.0.2.7', reason: 'missing-credentials' });
    expect(calls).toEqual(['second']);
  });
});
