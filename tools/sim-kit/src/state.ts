import { SimClock } from './clock';
import { FaultInjector, type FaultMatch } from './faults';

/**
 * What every simulator's state has besides the vendor's data: simulated time, armed faults, and the seed
 * a reset goes back to. A subclass loads its data in `loadSeed` and applies time to it in `sweep`; its
 * constructor ends with `this.reset()`, because its own fields do not exist yet while this one runs.
 */
export abstract class SimStateBase<Seed, Parsed, Fault extends FaultMatch> {
  /** The seed in force, validated and with its defaults filled in. */
  protected seed!: Parsed;
  protected readonly faults = new FaultInjector<Fault>();
  private readonly clock = new SimClock();

  protected constructor(
    private initialSeed: Seed,
    private readonly parseSeed: (seed: Seed) => Parsed,
  ) {}

  /** Simulator time: wall time plus any offset a test added, so expiry can be driven without waiting. */
  now(): number {
    return this.clock.now();
  }

  advanceClock(ms: number): number {
    this.clock.advance(ms);
    this.sweep();
    return this.now();
  }

  /**
   * Starts over from `seed`, which from then on is what a bare reset returns to, or from the last such seed.
   * An invalid seed throws before anything changes.
   */
  reset(seed: Seed = this.initialSeed): void {
    const parsed = this.parseSeed(seed);
    this.initialSeed = seed;
    this.seed = parsed;
    this.faults.reset();
    this.loadSeed(parsed);
  }

  addFault(fault: Fault): void {
    this.faults.add(fault);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Replaces all data, sessions and counters with what `seed` describes. */
  protected abstract loadSeed(seed: Parsed): void;

  /** Lazily applies everything time decides. */
  protected abstract sweep(): void;
}
