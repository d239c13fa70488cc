import type { HashicorpVaultSettings, HashicorpVaultSource, JumpMethod } from '@openecm/contracts';
import { metadataList, userAllowed } from '../hashicorp-vault/matching';
import type { MachineFound } from './systems';

type EndpointSource = Extract<HashicorpVaultSource, { kind: 'library' | 'static-role' }>;
type KvSource = Extract<HashicorpVaultSource, { kind: 'kv' }>;
type UserMapping = HashicorpVaultSettings['userMapping'];

/** The names that are one system each: a wildcard (`*.corp.example`) stands for names nobody listed, so it is none. */
export function literalEndpoints(names: readonly string[]): string[] {
  return names.map((n) => n.trim()).filter((n) => n !== '' && !n.includes('*'));
}

/**
 * How a KV secret's machine is reached: what its metadata says (`rdp`, `shell` or `ssh`, any case), else the
 * source's setting, else RDP. Anything else (a database, a web site) is reached by neither: undefined.
 */
export function kvJumpMethod(said: string | undefined, fallback: JumpMethod | undefined): JumpMethod | undefined {
  const value = said?.trim().toLowerCase();
  if (!value) return fallback ?? 'rdp';
  if (value === 'rdp') return 'rdp';
  if (value === 'shell' || value === 'ssh') return 'shell';
  return undefined;
}

/** The systems a library set or static role offers `user`: its literal endpoints, when its `users` let the user in. */
export function endpointMachines(source: EndpointSource, user: string, mapping: UserMapping): MachineFound[] {
  if (!userAllowed(source.users, user, mapping)) return [];
  const jumpMethod = source.jumpMethod ?? 'rdp';
  return literalEndpoints(source.endpoints).map((machine) => ({ machine, jumpMethod }));
}

/**
 * The systems a KV secret offers `user`, read from its custom_metadata: each literal name of its machine list,
 * when the secret names an account (a list offers nothing otherwise) and its users let the user in.
 */
export function kvMachines(source: KvSource, meta: Readonly<Record<string, string>>, user: string, mapping: UserMapping): MachineFound[] {
  if (!meta[source.accountKey] || !userAllowed(metadataList(meta[source.usersKey]), user, mapping)) return [];
  const jumpMethod = kvJumpMethod(meta[source.jumpMethodKey], source.jumpMethod);
  if (!jumpMethod) return [];
  return literalEndpoints(metadataList(meta[source.machineKey])).map((machine) => ({ machine, jumpMethod }));
}
