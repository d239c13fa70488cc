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
