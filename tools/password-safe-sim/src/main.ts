import './tracing';
import { z } from 'zod';
import { LOG_LEVELS, runSimulator } from '@openecm/sim-kit';
import { DEMO_SEED_PATH, EMPTY_SEED, createPasswordSafeSim, loadSeedFile } from './sim';

const envSchema = z.object({
  PS_SIM_PORT: z.coerce.number().int().min(0).max(65535).default(8090),
  PS_SIM_HOST: z.string().min(1).default('127.0.0.1'),
  PS_SIM_SEED: z.string().min(1).default(DEMO_SEED_PATH),
  PS_SIM_EMPTY: z.enum(['true', 'false']).default('false'),
  PS_SIM_IDLE_TIMEOUT_SECONDS: z.coerce.number().positive().optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
});

runSimulator({ name: 'password-safe-sim', title: 'Password Safe simulator', envSchema }, async (env, logger) => {
  const sim = createPasswordSafeSim({
    seed: env.PS_SIM_EMPTY === 'true' ? EMPTY_SEED : loadSeedFile(env.PS_SIM_SEED),
    ...(env.PS_SIM_IDLE_TIMEOUT_SECONDS === undefined ? {} : { idleTimeoutMs: env.PS_SIM_IDLE_TIMEOUT_SECONDS * 1000 }),
    logger,
  });
  const url = await sim.listen(env.PS_SIM_PORT, env.PS_SIM_HOST);
  logger.info({ url, control: new URL('/_sim/', url).toString() }, 'password safe simulator listening');
  return sim;
});
