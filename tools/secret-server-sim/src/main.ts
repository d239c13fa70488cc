import './tracing';
import { z } from 'zod';
import { LOG_LEVELS, runSimulator } from '@openecm/sim-kit';
import { DEMO_SEED_PATH, EMPTY_SEED, createSecretServerSim, loadSeedFile } from './sim';

const envSchema = z.object({
  SS_SIM_PORT: z.coerce.number().int().min(0).max(65535).default(8091),
  SS_SIM_HOST: z.string().min(1).default('127.0.0.1'),
  SS_SIM_SEED: z.string().min(1).default(DEMO_SEED_PATH),
  SS_SIM_EMPTY: z.enum(['true', 'false']).default('false'),
  SS_SIM_TOKEN_TTL_SECONDS: z.coerce.number().positive().default(1200),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
});

runSimulator({ name: 'secret-server-sim', title: 'Secret Server simulator', envSchema }, async (env, logger) => {
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
  return sim;
});
