import type { CpuPerCall } from './cpu';

const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '-');

/** Issue 11's rates: what they leave of this machine's cores for the broker, once the vault and the appliance are served. */
export const BUDGET = { list: 1000, inject: 300 } as const;

/**
 * The arithmetic of the targets on this machine: at `BUDGET.list` lists/s its cores give 1000 * cores / rate ms
 * per list to everything on it, the simulator's and the load generator's share included (on a deployment they run
 * elsewhere). What is left is the most the broker may use per call for the rate to be held at all, before any room
 * for a p99.
 */
export function budgetLines(cores: number, perCall: Record<keyof typeof BUDGET, CpuPerCall | undefined>, at: number): string[] {
  return (Object.keys(BUDGET) as Array<keyof typeof BUDGET>).flatMap((call) => {
    const cpu = perCall[call];
    if (!cpu) return [];
    const all = (1000 * cores) / BUDGET[call];
    const beside = (cpu['password-safe-sim'] ?? 0) + (cpu['load-generator'] ?? 0);
    const left = all - beside;
    const broker = cpu['broker'] ?? Number.NaN;
    const verdict = broker <= left ? `within it, ${fmt(left - broker)} ms to spare` : `${fmt(broker - left)} ms over it`;
    return [
      `- ${BUDGET[call]} ${call === 'list' ? 'lists' : 'injections'}/s on ${cores} cores: ${fmt(all)} ms of CPU per call for everything on the machine; the simulator and the load generator took ${fmt(beside)} ms per call at ${at}/s, leaving ${fmt(left)} ms for the broker, which used ${fmt(broker)} (${verdict}).`,
    ];
  });
}

