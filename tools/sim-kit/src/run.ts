import pino, { type LevelWithSilent, type Logger } from 'pino';
import { z } from 'zod';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const satisfies readonly LevelWithSilent[];

export interface SimulatorMain<Env extends { LOG_LEVEL: LevelWithSilent }> {
  /** The logger's name, e.g. `password-safe-sim`. */
  name: string;
  /** Names the simulator in the error that rejects its environment, e.g. "Password Safe simulator". */
  title: string;
  /** Validates `process.env`; it must have a `LOG_LEVEL`. */
  envSchema: z.ZodType<Env>;
}

/** Starts the simulator and logs where it listens; what it resolves to is closed on SIGTERM or SIGINT. */
export type StartSimulator<Env> = (env: Env, logger: Logger) => Promise<{ close(): Promise<void> }>;

/**
 * A simulator's process: environment, logger, start, and a clean exit on SIGTERM or SIGINT. A failure to
 * start goes to stderr as one pino-shaped fatal line, since there may be no logger yet to write it.
 */
export function runSimulator<Env extends { LOG_LEVEL: LevelWithSilent }>(main: SimulatorMain<Env>, start: StartSimulator<Env>): void {
  run(main, start).catch((error: unknown) => {
    process.stderr.write(`${JSON.stringify({ level: 60, msg: error instanceof Error ? error.message : String(error) })}\n`);
    process.exit(1);
  });
}

async function run<Env extends { LOG_LEVEL: LevelWithSilent }>(main: SimulatorMain<Env>, start: StartSimulator<Env>): Promise<void> {
  const parsed = main.envSchema.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(`invalid ${main.title} environment: ${z.prettifyError(parsed.error)}`);
  }
  const env = parsed.data;
  const logger = pino({ name: main.name, level: env.LOG_LEVEL });
  const sim = await start(env, logger);

  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    sim.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ signal, error: error instanceof Error ? error.message : String(error) }, 'close failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
