/**
 * Simulator time: wall time plus whatever offset a test added, so expiry can be driven without waiting.
 * The offset survives a reset, as a reset restores data and not time.
 */
export class SimClock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Moves time forward and answers the new simulator time. */
  advance(ms: number): number {
    this.offsetMs += ms;
    return this.now();
  }
}
