/** What the simulators' inventory generators share: a repeatable random source and weighted picks. */

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One of `items`, each as likely as its `weight` says. */
export function pickWeighted<T extends { weight: number }>(rand: () => number, items: readonly [T, ...T[]]): T {
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  let roll = rand() * total;
  for (const item of items) {
    roll -= item.weight;
    if (roll < 0) return item;
  }
  return items[0];
}

export function pickOne<const I extends readonly [unknown, ...unknown[]]>(rand: () => number, items: I): I[number] {
  return items[Math.floor(rand() * items.length)] ?? items[0];
}

export const padNumber = (n: number, width: number): string => String(n).padStart(width, '0');

/** `--generate N` on a simulator's command line: how much to generate, or undefined when not given. */
export function generateArgument(argv: readonly string[], what: string): number | undefined {
  const at = argv.indexOf('--generate');
  if (at < 0) return undefined;
  const value = Number(argv[at + 1]);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--generate takes a positive number of ${what}`);
  return value;
}
