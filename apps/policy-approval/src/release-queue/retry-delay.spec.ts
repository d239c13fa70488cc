import { retryDelay } from './release.processor';

describe('retryDelay', () => {
  const config = { RELEASE_JOB_BACKOFF_MS: 2_000, RELEASE_JOB_BACKOFF_MAX_MS: 600_000 };

  it('doubles from the base delay, with at most 20% taken off for jitter', () => {
    for (const [attempts, full] of [[1, 2_000], [2, 4_000], [3, 8_000], [6, 64_000]] as const) {
      const delay = retryDelay(attempts, config);
      expect(delay).toBeLessThanOrEqual(full);
      expect(delay).toBeGreaterThanOrEqual(full * 0.8);
    }
  });

  it('never waits longer than the cap, however many attempts were made', () => {
    expect(retryDelay(40, config)).toBeLessThanOrEqual(600_000);
    expect(retryDelay(10_000, config)).toBeGreaterThanOrEqual(480_000);
  });
});
