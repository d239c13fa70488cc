import { OpenEcmError, type JumpMethod, type VaultSystem } from '@openecm/contracts';

export type { SystemsOrPending } from '@openecm/vault-sdk';

/** Case-insensitive "contains" over the values a system is known by (name, host name, DNS name, IP address). */
export function matchesSearch(values: ReadonlyArray<string | null | undefined>, needle: string): boolean {
  return values.some((v) => typeof v === 'string' && v.toLowerCase().includes(needle));
}

/** The search as systems are matched against it. */
export function searchKey(search: string): string {
  return search.trim().toLowerCase();
}

export function byName(a: { name: string }, b: { name: string }): number {
  const x = a.name.toLowerCase();
  const y = b.name.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The first `limit` systems by name, and whether more matched. */
export function firstByName(systems: VaultSystem[], limit: number): { systems: VaultSystem[]; truncated: boolean } {
  const sorted = [...systems].sort(byName);
  return { systems: sorted.slice(0, limit), truncated: sorted.length > limit };
}

/** A machine a vault names (Secret Server's Machine field, a HashiCorp Vault endpoint) and how it is reached. */
export interface MachineFound {
  machine: string;
  jumpMethod: JumpMethod;
}

/**
 * One system per machine, compared case-insensitively with a trailing dot ignored, the first one found deciding
 * how it is reached; those containing `needle`, the first `limit` by name. `more`: the vault had more to look at
 * than was read, so the answer counts as truncated.
 */
export function machineSystems(vault: string, found: readonly MachineFound[], needle: string, limit: number, more: boolean): { systems: VaultSystem[]; truncated: boolean } {
  const byMachine = new Map<string, VaultSystem>();
  for (const { machine, jumpMethod } of found) {
    const value = machine.trim().replace(/\.$/, '');
    const key = value.toLowerCase();
    if (value === '' || !key.includes(needle) || byMachine.has(key)) continue;
    byMachine.set(key, {
      vault,
      ref: { machine: key },
      name: value,
      hostname: value,
      ip: isIpAddress(value) ? value : null,
      jumpMethod,
      comments: '',
      networkId: null,
    });
  }
  const answer = firstByName([...byMachine.values()], limit);
  return { systems: answer.systems, truncated: answer.truncated || more };
}

/** Secret Server templates: Windows ones are reached over RDP, Unix, Linux and SSH ones with a shell. */
export function jumpMethodOfTemplate(templateName: string): JumpMethod | undefined {
  if (/windows/i.test(templateName)) return 'rdp';
  if (/unix|linux|ssh/i.test(templateName)) return 'shell';
  return undefined;
}

/** Password Safe platforms say how the vendor's own remote access reaches them: RDP, SSH, or nothing. */
export function jumpMethodOfSessionType(sessionType: string | null | undefined): JumpMethod | undefined {
  const type = sessionType?.trim().toUpperCase();
  if (type === 'RDP') return 'rdp';
  if (type === 'SSH') return 'shell';
  return undefined;
}

export function isIpAddress(value: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(value) || (value.includes(':') && /^[0-9a-f:.]+$/i.test(value));
}

export function withTimeout<T>(work: Promise<T>, ms: number, vault: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OpenEcmError('UPSTREAM_TIMEOUT', `vault ${vault} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `work` over `items` with at most `limit` at once, answers in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index] as T);
    }
  });
  await Promise.all(runners);
  return results;
}
