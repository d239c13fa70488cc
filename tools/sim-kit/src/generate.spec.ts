import { generateArgument, padNumber, pickOne, pickWeighted, seededRandom } from './generate';

describe('inventory generation helpers', () => {
  it('gives the same sequence for the same seed, in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const values = Array.from({ length: 1000 }, () => a());
    expect(values).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(seededRandom(43)()).not.toBe(values[0]);
  });

  it('picks by weight and uniformly', () => {
    const rand = seededRandom(1);
    const picks = Array.from({ length: 10_000 }, () => pickWeighted(rand, [{ name: 'a', weight: 9 }, { name: 'b', weight: 1 }]).name);
    const share = picks.filter((p) => p === 'b').length / picks.length;
    expect(share).toBeGreaterThan(0.07);
    expect(share).toBeLessThan(0.13);
    expect(new Set(Array.from({ length: 200 }, () => pickOne(rand, ['x', 'y', 'z'] as const)))).toEqual(new Set(['x', 'y', 'z']));
    expect(padNumber(7, 4)).toBe('0007');
  });

  it('reads --generate N from a command line', () => {
    expect(generateArgument(['node', 'main.ts'], 'systems')).toBeUndefined();
    expect(generateArgument(['node', 'main.ts', '--generate', '100000'], 'systems')).toBe(100_000);
    expect(() => generateArgument(['node', 'main.ts', '--generate'], 'systems')).toThrow('--generate takes a positive number of systems');
    expect(() => generateArgument(['node', 'main.ts', '--generate', '-3'], 'systems')).toThrow();
  });
});
