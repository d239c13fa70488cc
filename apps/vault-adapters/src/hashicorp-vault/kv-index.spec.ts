import { KvIndex, type KvListing } from './kv-index';

const listing = (path: string): KvListing => ({ secrets: [{ path, meta: { machine: path } }], more: false });

describe('KvIndex: a KV source walked once for everyone, for a short while', () => {
  let now = 0;
  const index = () => new KvIndex(30_000, () => now);
  beforeEach(() => {
    now = 1_000_000;
  });

  it('shares one walk between lists that ask at once, and answers from it until it is stale', async () => {
    const kv = index();
    const load = jest.fn(async () => listing('a'));
    const answers = await Promise.all([kv.get(['hv', 'kv'], load), kv.get(['hv', 'kv'], load), kv.get(['hv', 'kv'], load)]);
    expect(answers.map((a) => a.secrets[0]?.path)).toEqual(['a', 'a', 'a']);
    expect(load).toHaveBeenCalledTimes(1);
    now += 29_999;
    await kv.get(['hv', 'kv'], load);
    expect(load).toHaveBeenCalledTimes(1);
    now += 1;
    load.mockImplementation(async () => listing('b'));
    expect((await kv.get(['hv', 'kv'], load)).secrets[0]?.path).toBe('b');
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('keeps no failed walk: the next list walks again', async () => {
    const kv = index();
    const failing = jest.fn(async (): Promise<KvListing> => {
      throw new Error('vault unreachable');
    });
    await expect(kv.get(['hv', 'kv'], failing)).rejects.toThrow('vault unreachable');
    expect((await kv.get(['hv', 'kv'], async () => listing('a'))).secrets).toHaveLength(1);
  });

  it('forgets one connection’s walks, and only that connection’s', async () => {
    const kv = index();
    await kv.get(['hv', 'kv'], async () => listing('a'));
    await kv.get(['hv-2', 'kv'], async () => listing('x'));
    kv.forget('hv');
    const again = jest.fn(async () => listing('a2'));
    expect((await kv.get(['hv', 'kv'], again)).secrets[0]?.path).toBe('a2');
    const other = jest.fn(async () => listing('x2'));
    expect((await kv.get(['hv-2', 'kv'], other)).secrets[0]?.path).toBe('x');
    expect(other).not.toHaveBeenCalled();
    // a connection named as another's prefix is another connection
    kv.forget('hv-');
    expect((await kv.get(['hv-2', 'kv'], other)).secrets[0]?.path).toBe('x');
  });

  it('keeps the walks of different folders, mounts or addresses apart', async () => {
    const kv = index();
    await kv.get(['hv', 'https://a', '', 'secret', 'team-a'], async () => listing('a'));
    expect((await kv.get(['hv', 'https://a', '', 'secret', 'team-b'], async () => listing('b'))).secrets[0]?.path).toBe('b');
    expect((await kv.get(['hv', 'https://b', '', 'secret', 'team-a'], async () => listing('c'))).secrets[0]?.path).toBe('c');
  });
});
