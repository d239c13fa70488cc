import { GroupCommit } from './group-commit';

const settle = () => new Promise((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('writes groups one at a time in the order items came, and answers each item its own result', async () => {
    const writes: number[][] = [];
    const held: Array<() => void> = [];
    const commit = new GroupCommit<number, string>(
      (items) =>
        new Promise((resolve) => {
          writes.push(items);
          held.push(() => resolve(items.map((n) => `stored ${n}`)));
        }),
      3,
    );
    const results = [1, 2, 3, 4, 5, 6].map((n) => commit.submit(n));
    await settle();
    // all six came in the same tick: the first group takes as many as a group holds
    expect(writes).toEqual([[1, 2, 3]]);
    held.shift()?.();
    await settle();
    expect(writes).toEqual([[1, 2, 3], [4, 5, 6]]);
    held.shift()?.();
    expect(await Promise.all(results)).toEqual(['stored 1', 'stored 2', 'stored 3', 'stored 4', 'stored 5', 'stored 6']);
    await commit.idle();
  });

  it('settles every item, failing only those the store refuses one by one', async () => {
    const commit = new GroupCommit<number, number>(async (items) => {
      if (items.includes(13)) throw new Error('refused');
      return items.map((n) => n * 2);
    });
    const outcomes = [1, 13, 2].map((n) => commit.submit(n).then(String, (e: Error) => e.message));
    await commit.idle();
    expect(await Promise.all(outcomes)).toEqual(['2', 'refused', '4']);
  });
});
