// `npm run vault-types`: writes the contracts' vault types from the adapters' registration.
import { existsSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { REGISTERED_ADAPTERS } from './adapters';
import { VAULT_TYPES_FILE, renderVaultTypesFile, settingsFileOf } from './vault-types-file';

async function main(): Promise<void> {
  const modules = new Map<string, Record<string, unknown>>();
  for (const { vaultType } of REGISTERED_ADAPTERS) {
    const file = settingsFileOf(vaultType.type);
    if (existsSync(file)) modules.set(file, (await import(file)) as Record<string, unknown>);
  }
  writeFileSync(VAULT_TYPES_FILE, renderVaultTypesFile(REGISTERED_ADAPTERS, (file) => modules.get(file) ?? {}));
  process.stdout.write(`wrote ${relative(process.cwd(), VAULT_TYPES_FILE)}\n`);
}

void main();
