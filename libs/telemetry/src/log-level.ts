import type { Logger } from 'pino';

/**
 * The level of a running logger, switched without a restart and returning to the configured one on its own,
 * so a DEBUG switched on to chase a problem is never left on by accident. A new switch replaces the previous
 * one and its revert time.
 */
export class LogLevelSwitch {
  private timer: NodeJS.Timeout | undefined;
  private revertsAtMs: number | null = null;

  constructor(
    private readonly logger: Logger,
    /** The level the process was started with (LOG_LEVEL). */
    readonly configured: string = logger.level,
  ) {}

  get level(): string {
    return this.logger.level;
  }

  get revertsAt(): Date | null {
    return this.revertsAtMs === null ? null : new Date(this.revertsAtMs);
  }

  /** Applies `level` now; back to the configured level after `revertAfterMs` (no revert to schedule when it is that level). */
  set(level: string, revertAfterMs: number): { level: string; revertsAt: Date | null } {
    this.cancel();
    if (level !== this.configured) {
      this.revertsAtMs = Date.now() + revertAfterMs;
      this.timer = setTimeout(() => this.revert(), revertAfterMs);
      this.timer.unref();
    }
    this.apply(level, 'log level switched');
    return { level, revertsAt: this.revertsAt };
  }

  revert(): void {
    this.cancel();
    this.apply(this.configured, 'log level back to the configured one');
  }

  /** Stops a pending revert (on shutdown) without touching the level. */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.revertsAtMs = null;
  }

  /** The line announcing a change is written while the more verbose of the two levels is active, so it shows. */
  private apply(level: string, message: string): void {
    const from = this.logger.level;
    if (from === level) return;
    const fields = { from, to: level, revertsAt: this.revertsAt?.toISOString() ?? null };
    const louder = this.logger.levels.values[level] ?? 0;
    const current = this.logger.levels.values[from] ?? 0;
    if (louder < current) {
      this.logger.level = level;
      this.logger.info(fields, message);
    } else {
      this.logger.info(fields, message);
      this.logger.level = level;
    }
  }
}
