import './tracing';
import { z } from 'zod';
import { LOG_LEVELS, generateArgument, runSimulator } from '@openecm/sim-kit';
import { DEMO_SEED_PATH, EMPTY_SEED, createSecretServerSim, generateSeed, loadSeedFile, summariseSeed } from './sim';

const envSchema = z.object({
  SS_SIM_PORT: z.coerce.number().int().min(0).max(65535).default(8091),
  SS_SIM_HOST: z.string().min(1).default('127.0.0.1'),
  SS_SIM_SEED: z.string().min(1).default(DEMO_SEED_PATH),
  SS_SIM_EMPTY: z.enum(['true', 'false']).default('false'),
  /** Start with the demo seed plus this many generated secrets instead of a seed file (as `--generate N`). */
  SS_SIM_GENERATE: z.coerce.number().int().positive().optional(),
  SS_SIM_GENERATE_USERS: z.coerce.number().int().positive().optional(),
  SS_SIM_TOKEN_TTL_SECONDS: z.coerce.number().positive().default(1200),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
});

runSimulator({ name: 'secret-server-sim', title: 'Secret Server simulator', envSchema }, async (env, logger) => {
  // `--generate N` on the command line wins over the environment
  const generate = generateArgument(process.argv, 'secrets') ?? env.SS_SIM_GENERATE;
  const seed =
    generate !== undefined
      ? generateSeed({ secrets: generate, ...(env.SS_SIM_GENERATE_USERS === undefined ? {} : { users: env.SS_SIM_GENERATE_USERS }) })
      : env.SS_SIM_EMPTY === 'true'
        ? EMPTY_SEED
        : loadSeedFile(env.SS_SIM_SEED);
  const sim = createSecretServerSim({ seed, tokenTtlMs: env.SS_SIM_TOKEN_TTL_SECONDS * 1000, logger });
  const url = await sim.listen(env.SS_SIM_PORT, env.SS_SIM_HOST);
  logger.info(
    {
      url,
      soap: `${url}/webservices/SSWebService.asmx`,
      control: new URL('/_sim/', url).toString(),
      ...(generate === undefined ? {} : { generated: summariseSeed(seed) }),
    },
    'secret server simulator listening',
  );
  return sim;
});
