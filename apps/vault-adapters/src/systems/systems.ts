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
