/**
 * A vault-side sweep run carries nothing: it reads the leases when it runs. Its id is derived by BullMQ from the
 * scheduler's (the one sweep of the deployment) and the run's time, so every instance upserting the scheduler
 * makes one schedule, never one each.
 */
export type VaultSweepJob = Record<string, never>;

export const VAULT_SWEEP_QUEUE = 'vault-sweep';
export const VAULT_SWEEP_JOB = 'sweep';
/** The job scheduler's id: the entity the runs derive their ids from. */
export const VAULT_SWEEP_SCHEDULER = 'vault-sweep';
