import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { VaultAdapterRegistration } from '@openecm/vault-sdk';

/** The contracts' list of vault types, derived from the adapters' registration by `npm run vault-types`. */
export const VAULT_TYPES_FILE = resolve(__dirname, '../../../libs/contracts/src/vault-types/index.ts');
const ADAPTERS_DIR = __dirname;

/** Where a vault type's settings live: in its adapter's folder, named as the type. */
export function settingsFileOf(type: string): string {
  return resolve(ADAPTERS_DIR, type, 'settings/index.ts');
}

/** The name a vault type's `settings/` exports its definition under: `hashicorp-vault` → `hashicorpVaultType`. */
export function definitionExportName(type: string): string {
  return `${type.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())}Type`;
}

/**
 * Checks each registration against the conventions the contracts rely on (its folder is named as its type, and its
 * `settings/` exports the very definition it registers), and renders the contracts' file.
 */
export function renderVaultTypesFile(registrations: readonly VaultAdapterRegistration[], load: (settingsFile: string) => Record<string, unknown>): string {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const { vaultType } of registrations) {
    const { type } = vaultType;
    if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(type)) problems.push(`${type}: a vault type is lower-case words joined by '-'`);
    if (seen.has(type)) problems.push(`${type}: registered twice`);
    seen.add(type);
    const settings = settingsFileOf(type);
    if (!existsSync(settings)) {
      problems.push(`${type}: its settings belong in apps/vault-adapters/src/${type}/settings/index.ts`);
      continue;
    }
    if (load(settings)[definitionExportName(type)] !== vaultType) {
      problems.push(`${type}: apps/vault-adapters/src/${type}/settings exports no ${definitionExportName(type)}, or not the one registered`);
    }
  }
  if (problems.length > 0) throw new Error(`the vault adapters' registration does not fit:\n  ${problems.join('\n  ')}`);
  const types = registrations.map(({ vaultType }) => vaultType.type);
  return [
    '// Written by `npm run vault-types` from apps/vault-adapters/src/registered.ts, the adapters\' registration: do',
    '// not edit (a unit test fails while it differs). Each vault type\'s settings live in its adapter\'s folder.',
    ...types.map((type) => `import { ${definitionExportName(type)} } from '@openecm/vault-type/${type}';`),
    '',
    "export * from '@openecm/vault-type-kit';",
    ...types.map((type) => `export * from '@openecm/vault-type/${type}';`),
    '',
    '/** Every registered vault type: the type enum, the connection settings union, masking and the URL rules derive from it. */',
    `export const VAULT_TYPES = [${types.map(definitionExportName).join(', ')}] as const;`,
    '',
  ].join('\n');
}
