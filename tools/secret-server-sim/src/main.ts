import './tracing';
import pino from 'pino';
import { z } from 'zod';
import { DEMO_SEED_PATH, EMPTY_SEED, createSecretServerSim, loadSeedFile } from './sim';

const envSchema = z.object({
  SS_SIM_PORT: z.coerce.number().int().min(0).max(65535).default(8091),
  SS_SIM_HOST: z.string().min(1).default('127.0.0.1'),
  SS_SIM_SEED: z.string().min(1).default(DEMO_SEED_PATH),
  SS_SIM_EMPTY: z.enum(['true', 'false']).default('false'),
  SS_SIM_TOKEN_TTL_SECONDS: z.coerce.number().positive().default(1200),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

async function main(): Promise<void> {
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(`invalid Secret Server simulator environment: ${z.prettifyError(parsed.error)}`);
  }
  const env = parsed.data;
  const logger = pino({ name: 'secret-server-sim', level: env.LOG_LEVEL });
  const sim = createSecretServerSim({
    seed: env.SS_SIM_EMPTY === 'true' ? EMPTY_SEED : loadSeedFile(env.SS_SIM_SEED),
    tokenTtlMs: env.SS_SIM_TOKEN_TTL_SECONDS * 1000,
    logger,
  });
  const url = await sim.listen(env.SS_SIM_PORT, env.SS_SIM_HOST);
  logger.info(
    { url, soap: `${url}/webservices/SSWebService.asmx`, control: new URL('/_sim/', url).toString() },
    'secret server simulator listening',
  );

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
