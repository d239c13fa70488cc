import type { ApplianceClient } from './appliance-client';

export interface DemoSeed {
  vaultName: string;
  passwordSafeUrl: string;
  apiKey: string;
  users: string[];
  /** Also connect the Secret Server simulator (its SOAP endpoint URL), with the demo API account. */
  secretServerUrl?: string;
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
  for (const user of seed.users) {
    const added = await admin.call('POST', '/api/v1/admin/groups/Secure%20Remote%20Access%20Requesters/members', { user });
    if (added.status >= 300) throw new Error(`adding ${user} failed: ${added.status} ${JSON.stringify(added.body)}`);
    print(`           ${user} is in "Secure Remote Access Requesters"  trace ${added.traceId}`);
  }
}
