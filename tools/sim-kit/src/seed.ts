import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** How seed checks report a problem, and the check they all need. */
export interface SeedIssues {
  report(message: string): void;
  /** Reports `<what> must be unique` when `values` repeat. */
  unique(values: readonly (string | number)[], what: string): void;
}

/**
 * Adapts cross-reference checks to `superRefine`, so they read as a list of rules rather than zod plumbing.
 */
export function seedChecks<Parsed>(check: (seed: Parsed, issues: SeedIssues) => void): (seed: Parsed, ctx: z.RefinementCtx) => void {
  return (seed, ctx) => {
    const report = (message: string): void => {
      ctx.addIssue({ code: 'custom', message });
    };
    const unique = (values: readonly (string | number)[], what: string): void => {
      if (new Set(values).size !== values.length) report(`${what} must be unique`);
    };
    check(seed, { report, unique });
  };
}

export interface SeedFiles<Seed, Parsed extends Seed> {
  /** Validates a seed and fills in its defaults; throws naming the simulator when it is invalid. */
  parseSeed(seed: Seed): Parsed;
  /** Reads and validates a JSON seed file; throws naming the simulator and the file when it is invalid. */
  loadSeedFile(path: string): Seed;
  loadDemoSeed(): Seed;
}

/**
 * Seed parsing and loading for one simulator. `simulator` names it in errors, e.g. "Password Safe simulator";
 * `demoSeedPath` is the seed it starts with when given none.
 */
export function seedFiles<Seed, Parsed extends Seed>(
  schema: z.ZodType<Parsed, Seed>,
  simulator: string,
  demoSeedPath: string,
): SeedFiles<Seed, Parsed> {
  const loadSeedFile = (path: string): Seed => {
    const raw: unknown = JSON.parse(readFileSync(path, 'utf8'));
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      throw new Error(`invalid ${simulator} seed ${path}: ${z.prettifyError(parsed.error)}`);
    }
    return parsed.data;
  };
  return {
    parseSeed(seed) {
      const result = schema.safeParse(seed);
      if (!result.success) {
        throw new Error(`invalid ${simulator} seed: ${z.prettifyError(result.error)}`);
      }
      return result.data;
    },
    loadSeedFile,
    loadDemoSeed: () => loadSeedFile(demoSeedPath),
  };
}
