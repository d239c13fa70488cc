import { BoundedTtlCache } from './bounded-ttl-cache';

describe('BoundedTtlCache', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000;
  });

  it('keeps an entry for the cache TTL at most', () => {
    const cache = new BoundedTtlCache<string>(10, 5_000, clock);
    cache.set('k', 'v');
    now += 4_999;
    expect(cache.get('k')).toBe('v');
    now += 1;
    expect(cache.get('k')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('never keeps an entry past its own deadline (a token expiring sooner than the TTL)', () => {
    const cache = new BoundedTtlCache<string>(10, 5_000, clock);
    cache.set('k', 'v', now + 1_000);
    now += 1_000;
    expect(cache.get('k')).toBeUndefined();
    cache.set('past', 'v', now - 1);
    expect(cache.size).toBe(0);
  });

  it('drops the oldest entries when full', () => {
    const cache = new BoundedTtlCache<number>(3, 5_000, clock);
    for (let i = 0; i < 5; i++) cache.set(`k${i}`, i);
    expect(cache.size).toBe(3);
    expect(cache.get('k0')).toBeUndefined();
    expect(cache.get('k1')).toBeUndefined();
    expect(cache.get('k4')).toBe(4);
  });

  it('forgets entries by key or by value', () => {
    const cache = new BoundedTtlCache<{ account: string }>(10, 5_000, clock);
    cache.set('a1', { account: 'a' });
    cache.set('a2', { account: 'a' });
    cache.set('b1', { account: 'b' });
    cache.deleteWhere((v) => v.account === 'a');
    cache.delete('nothing');
    expect(cache.size).toBe(1);
    expect(cache.get('b1')).toEqual({ account: 'b' });
  });
});
