import './tracing';
import { z } from 'zod';
import { LOG_LEVELS, runSimulator } from '@openecm/sim-kit';
import { DEMO_SEED_PATH, EMPTY_SEED, createVaultSim, loadSeedFile } from './sim';

const envSchema = z.object({
  VAULT_SIM_PORT: z.coerce.number().int().min(0).max(65535).default(8094),
  VAULT_SIM_HOST: z.string().min(1).default('127.0.0.1'),
  VAULT_SIM_SEED: z.string().min(1).default(DEMO_SEED_PATH),
  VAULT_SIM_EMPTY: z.enum(['true', 'false']).default('false'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
});

runSimulator({ name: 'vault-sim', title: 'Vault simulator', envSchema }, async (env, logger) => {
  const sim = createVaultSim({ seed: env.VAULT_SIM_EMPTY === 'true' ? EMPTY_SEED : loadSeedFile(env.VAULT_SIM_SEED), logger });
  const url = await sim.listen(env.VAULT_SIM_PORT, env.VAULT_SIM_HOST);
  logger.info({ url, control: new URL('/_sim/', url).toString() }, 'vault simulator listening');
  return sim;
});
