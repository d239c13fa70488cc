import { readFileSync } from 'node:fs';
import { VAULT_TYPES, VaultConnectionInput, VaultType, defineVaultType } from '@openecm/contracts';
import type { VaultAdapterRegistration } from '@openecm/vault-sdk';
import { z } from 'zod';
import { REGISTERED_ADAPTERS } from './adapters';
import { VAULT_TYPES_FILE, definitionExportName, renderVaultTypesFile, settingsFileOf } from './vault-types-file';

async function loaded(registrations: readonly VaultAdapterRegistration[]): Promise<(file: string) => Record<string, unknown>> {
  const modules = new Map<string, Record<string, unknown>>();
  for (const { vaultType } of registrations) {
    const file = settingsFileOf(vaultType.type);
    try {
      modules.set(file, (await import(file)) as Record<string, unknown>);
    } catch {
      // a folder that does not exist: the render names it
    }
  }
  return (file) => modules.get(file) ?? {};
}

describe('the contracts’ vault types, derived from the adapters’ registration', () => {
  it('are the committed file, as `npm run vault-types` writes it', async () => {
    const expected = renderVaultTypesFile(REGISTERED_ADAPTERS, await loaded(REGISTERED_ADAPTERS));
    expect(readFileSync(VAULT_TYPES_FILE, 'utf8')).toBe(expected);
  });

  it('give the type enum and the settings union exactly the registered types', () => {
    const registered = REGISTERED_ADAPTERS.map((r) => r.vaultType.type);
    expect([...VaultType.options].sort()).toEqual([...registered].sort());
    expect(VAULT_TYPES.map((d) => d.type)).toEqual(registered);
    expect(VaultConnectionInput.safeParse({ type: 'unregistered-vault', settings: {} }).success).toBe(false);
  });

  it('refuses a registration whose folder holds no settings, naming where they belong', async () => {
    const stray = defineVaultType({ type: 'acme-vault', title: 'Acme', settings: z.strictObject({ url: z.string() }), urlField: 'url', secretFields: [] });
    const registrations = [...REGISTERED_ADAPTERS, { vaultType: stray, adapter: REGISTERED_ADAPTERS[0]!.adapter } as unknown as VaultAdapterRegistration];
    expect(() => renderVaultTypesFile(registrations, () => ({}))).toThrow('acme-vault: its settings belong in apps/vault-adapters/src/acme-vault/settings/index.ts');
  });

  it('refuses a registration that is not the definition its folder exports, or a type registered twice', async () => {
    const [first] = REGISTERED_ADAPTERS;
    const copy = { ...first!, vaultType: { ...first!.vaultType } };
    expect(() => renderVaultTypesFile([copy], () => ({}))).toThrow(`exports no ${definitionExportName(first!.vaultType.type)}, or not the one registered`);
    expect(() => renderVaultTypesFile([first!, first!], () => ({ [definitionExportName(first!.vaultType.type)]: first!.vaultType }))).toThrow('registered twice');
  });

  it('names a definition after its type', () => {
    expect(definitionExportName('hashicorp-vault')).toBe('hashicorpVaultType');
    expect(definitionExportName('password-safe')).toBe('passwordSafeType');
    expect(definitionExportName('cyberark')).toBe('cyberarkType');
  });
});
