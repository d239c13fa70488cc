import './tracing';
import { z } from 'zod';
import { LOG_LEVELS, generateArgument, runSimulator } from '@openecm/sim-kit';
import { DEMO_SEED_PATH, EMPTY_SEED, createPasswordSafeSim, generateSeed, loadSeedFile, summariseSeed } from './sim';

const envSchema = z.object({
  PS_SIM_PORT: z.coerce.number().int().min(0).max(65535).default(8090),
  PS_SIM_HOST: z.string().min(1).default('127.0.0.1'),
  PS_SIM_SEED: z.string().min(1).default(DEMO_SEED_PATH),
  PS_SIM_EMPTY: z.enum(['true', 'false']).default('false'),
  /** Start with a generated inventory of this many managed systems instead of a seed file (as `--generate N`). */
  PS_SIM_GENERATE: z.coerce.number().int().positive().optional(),
  PS_SIM_GENERATE_USERS: z.coerce.number().int().positive().optional(),
  PS_SIM_IDLE_TIMEOUT_SECONDS: z.coerce.number().positive().optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
});

runSimulator({ name: 'password-safe-sim', title: 'Password Safe simulator', envSchema }, async (env, logger) => {
  // `--generate N` on the command line wins over the environment
  const generate = generateArgument(process.argv, 'managed systems') ?? env.PS_SIM_GENERATE;
  const seed =
    generate !== undefined
      ? generateSeed({ systems: generate, ...(env.PS_SIM_GENERATE_USERS === undefined ? {} : { users: env.PS_SIM_GENERATE_USERS }) })
      : env.PS_SIM_EMPTY === 'true'
        ? EMPTY_SEED
        : loadSeedFile(env.PS_SIM_SEED);
  const sim = createPasswordSafeSim({
    seed,
    ...(env.PS_SIM_IDLE_TIMEOUT_SECONDS === undefined ? {} : { idleTimeoutMs: env.PS_SIM_IDLE_TIMEOUT_SECONDS * 1000 }),
    logger,
  });
  const url = await sim.listen(env.PS_SIM_PORT, env.PS_SIM_HOST);
  logger.info({ url, control: new URL('/_sim/', url).toString(), ...(generate === undefined ? {} : { generated: summariseSeed(seed) }) }, 'password safe simulator listening');
  return sim;
});
