import './tracing';
import pino from 'pino';
import { z } from 'zod';
import { DEMO_SEED_PATH, EMPTY_SEED, createPasswordSafeSim, loadSeedFile } from './sim';

const envSchema = z.object({
  PS_SIM_PORT: z.coerce.number().int().min(0).max(65535).default(8090),
  PS_SIM_HOST: z.string().min(1).default('127.0.0.1'),
  PS_SIM_SEED: z.string().min(1).default(DEMO_SEED_PATH),
  PS_SIM_EMPTY: z.enum(['true', 'false']).default('false'),
  PS_SIM_IDLE_TIMEOUT_SECONDS: z.coerce.number().positive().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

async function main(): Promise<void> {
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(`invalid Password Safe simulator environment: ${z.prettifyError(parsed.error)}`);
  }
  const env = parsed.data;
  const logger = pino({ name: 'password-safe-sim', level: env.LOG_LEVEL });
  const sim = createPasswordSafeSim({
    seed: env.PS_SIM_EMPTY === 'true' ? EMPTY_SEED : loadSeedFile(env.PS_SIM_SEED),
    ...(env.PS_SIM_IDLE_TIMEOUT_SECONDS === undefined ? {} : { idleTimeoutMs: env.PS_SIM_IDLE_TIMEOUT_SECONDS * 1000 }),
    logger,
  });
  const url = await sim.listen(env.PS_SIM_PORT, env.PS_SIM_HOST);
  logger.info({ url, control: new URL('/_sim/', url).toString() }, 'password safe simulator listening');

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

main().catch((error: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 60, msg: error instanceof Error ? error.message : String(error) })}\n`);
  process.exit(1);
});
