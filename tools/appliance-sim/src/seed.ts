import type { ApplianceClient } from './appliance-client';

export interface DemoSeed {
  vaultName: string;
  passwordSafeUrl: string;
  apiKey: string;
  users: string[];
  /** Also connect the Secret Server simulator (its SOAP endpoint URL), with the demo API account. */
  secretServerUrl?: string;
  /** Also connect the HashiCorp Vault simulator (its address), with the demo AppRole. */
  hashicorpVaultUrl?: string;
  print?: (line: string) => void;
}

/**
 * What an administrator does once: connect Password Safe (which also creates the "Secure Remote Access
 * Approval Policy" and the "Secure Remote Access Requesters" group) and add the demo users to the group.
 */
export async function seedDemo(admin: ApplianceClient, seed: DemoSeed): Promise<void> {
  const print = seed.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const vault = await admin.call('PUT', `/api/v1/admin/vaults/${seed.vaultName}`, {
    type: 'password-safe',
    settings: {
      baseUrl: seed.passwordSafeUrl, allowInsecureHttp: true,
      auth: { mode: 'api-key', apiKey: seed.apiKey },
      releaseDurationMinutes: 60,
      rotateAfterRelease: true,
    },
  });
  if (vault.status >= 300) throw new Error(`connecting the vault failed: ${vault.status} ${JSON.stringify(vault.body)}`);
  print(`0. setup    vault "${seed.vaultName}" connected (${seed.passwordSafeUrl})  trace ${vault.traceId}`);
  if (seed.secretServerUrl) {
    const ss = await admin.call('PUT', '/api/v1/admin/vaults/secret-server', {
      type: 'secret-server',
      settings: {
        endpointUrl: seed.secretServerUrl, allowInsecureHttp: true,
        apiUser: 'openecm-api',
        apiPassword: 'openecm-api-demo-pass',
        includeDomainCredentialsFor: 'CORP',
        defaultDomainForLocalUsers: 'CORP',
        fallBackToLocalAccount: true,
      },
    });
    if (ss.status >= 300) throw new Error(`connecting Secret Server failed: ${ss.status} ${JSON.stringify(ss.body)}`);
    print(`           vault "secret-server" connected (${seed.secretServerUrl})  trace ${ss.traceId}`);
  }
  if (seed.hashicorpVaultUrl) {
    const hv = await admin.call('PUT', '/api/v1/admin/vaults/hashicorp-vault', {
      type: 'hashicorp-vault',
      settings: hashicorpVaultDemoSettings(seed.hashicorpVaultUrl),
    });
    if (hv.status >= 300) throw new Error(`connecting HashiCorp Vault failed: ${hv.status} ${JSON.stringify(hv.body)}`);
    print(`           vault "hashicorp-vault" connected (${seed.hashicorpVaultUrl})  trace ${hv.traceId}`);
  }
  for (const user of seed.users) {
    const added = await admin.call('POST', '/api/v1/admin/groups/Secure%20Remote%20Access%20Requesters/members', { user });
    if (added.status >= 300) throw new Error(`adding ${user} failed: ${added.status} ${JSON.stringify(added.body)}`);
    print(`           ${user} is in "Secure Remote Access Requesters"  trace ${added.traceId}`);
  }
}

/**
 * The demo's HashiCorp Vault connection (tools/vault-sim/seed/demo.json): the AppRole, the LDAP library set lent
 * on srv-app01, the static role of srv-db01 and the KV secrets below `servers`.
 */
export function hashicorpVaultDemoSettings(address: string) {
  return {
    address,
    allowInsecureHttp: true,
    auth: { method: 'approle', roleId: 'demo-role-id', secretId: 'demo-secret-id' },
    sources: [
      { kind: 'library', set: 'rdp-admins', endpoints: ['srv-app01'], domain: 'CORP' },
      { kind: 'static-role', role: 'srv-db01-admin', endpoints: ['srv-db01'] },
      { kind: 'kv', path: 'servers' },
    ],
    releaseDurationMinutes: 60,
  };
}
