import type { RunningSystem } from '@openecm/testing';
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** The processes whose CPU a step is charged with, by the name the report shows. */
export type ProcessGroups = Record<string, () => number[]>;

/** CPU time (user + system, ms) a process has used so far; 0 for one that is gone. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name is in parentheses and may hold spaces: count fields after its closing one
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Every process whose command (argv[0]'s base name or /proc comm) is one of `names`: PostgreSQL's backends, say. */
export function pidsNamed(...names: string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (names.some((n) => comm === n || comm.startsWith(`${n}:`))) pids.push(Number(entry));
    } catch {
      // gone between the listing and the read
    }
  }
  return pids;
}

/** The CPU ms each group used between `start()` and the `stop()` of the handle it returns. */
export function measureCpu(groups: ProcessGroups): { stop(): Record<string, number> } {
  const before = new Map<number, number>();
  const members = Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, pids()]));
  for (const pids of Object.values(members)) for (const pid of pids) before.set(pid, cpuMsOf(pid));
  return {
    stop() {
      const used: Record<string, number> = {};
      for (const [name, pids] of Object.entries(groups)) {
        // a PostgreSQL backend that started during the step counts from zero
        const now = new Set([...(members[name] ?? []), ...pids()]);
        used[name] = [...now].reduce((sum, pid) => sum + Math.max(0, cpuMsOf(pid) - (before.get(pid) ?? 0)), 0);
      }
      return used;
    },
  };
}

/** CPU ms per completed call, by group, and `broker`: every OpenECM process, PostgreSQL, Redis and NATS summed. */
export type CpuPerCall = Record<string, number>;

export const OPENECM = ['appliance-gateway', 'policy-approval', 'vault-adapters', 'token-cache', 'session-reporting'];

/** The processes a call is charged with: each OpenECM service, the infrastructure, and the simulator apart. */
export function processGroups(system: RunningSystem): ProcessGroups {
  const of = (name: string) => () => system.processes.filter((p) => p.name === name && p.child.pid).map((p) => p.child.pid as number);
  return {
    ...Object.fromEntries(OPENECM.map((name) => [name, of(name)])),
    postgres: () => pidsNamed('postgres'),
    redis: () => pidsNamed('redis-server'),
    nats: () => pidsNamed('nats-server'),
    'password-safe-sim': of('password-safe-sim'),
    // the bench's own process: the appliance's calls made, timed and checked (the collector drops exports unread)
    'load-generator': () => [process.pid],
  };
}

/** Runs `work`, and charges each group's CPU to the calls that completed. */
export async function charged<T extends { count: number }>(groups: ProcessGroups, work: () => Promise<T>): Promise<{ result: T; cpu: CpuPerCall }> {
  const meter = measureCpu(groups);
  const result = await work();
  const used = meter.stop();
  const per = (ms: number) => (result.count > 0 ? ms / result.count : Number.NaN);
  const cpu = Object.fromEntries(Object.entries(used).map(([name, ms]) => [name, per(ms)]));
  const broker = [...OPENECM, 'postgres', 'redis', 'nats'].reduce((sum, name) => sum + (cpu[name] ?? 0), 0);
  return { result, cpu: { ...cpu, broker } };
}

/** What the system may still use, summed over its processes, and count as idle: 5% of one core. */
const IDLE_MS_PER_SECOND = 50;

/**
 * Waits until the system is idle: what one step left behind (events being consumed, jobs, a backlog of calls past
 * their deadline) is not charged to the next. Idle is every group but the load generator using less than
 * `IDLE_MS_PER_SECOND` in a window of `windowMs`; after `maxMs` it gives up. Answers how long it waited and whether
 * the system came to rest.
 */
export async function settle(groups: ProcessGroups, windowMs = 500, maxMs = 30_000): Promise<{ waitedMs: number; idle: boolean }> {
  const system = Object.fromEntries(Object.entries(groups).filter(([name]) => name !== 'load-generator'));
  const started = Date.now();
  for (;;) {
    const meter = measureCpu(system);
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const used = Object.values(meter.stop()).reduce((sum, ms) => sum + ms, 0);
    const waitedMs = Date.now() - started;
    if ((used * 1000) / windowMs < IDLE_MS_PER_SECOND) return { waitedMs, idle: true };
    if (waitedMs >= maxMs) return { waitedMs, idle: false };
  }
}
