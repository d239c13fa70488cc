import { z } from 'zod';
import { MASK, caBundle, defineVaultType, vaultAddress } from '@openecm/vault-type-kit';

/** Entered as the plugin does ("CORP, LAB") or as a list; kept as a list. */
const commaList = z
  .union([z.string().max(1024), z.array(z.string().min(1).max(256)).max(64)])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((d) => d.trim()).filter(Boolean));

/** The remote-access plugin's settings table, plus the API mode and a CA bundle. */
export const SecretServerSettings = z.strictObject({
  /** The SOAP endpoint (`.../webservices/SSWebService.asmx`) or the Secret Server base URL. */
  endpointUrl: vaultAddress(),
  apiUser: z.string().min(1).max(256),
  apiPassword: z.string().min(1).max(1024),
  apiDomain: z.string().max(256).optional(),
  apiOrganization: z.string().max(256).optional(),
  /** Comma-separated domains whose domain credentials are listed too. */
  includeDomainCredentialsFor: commaList.default([]),
  domainField: z.string().min(1).max(128).default('Domain'),
  machineField: z.string().min(1).max(128).default('Machine'),
  defaultDomainForLocalUsers: z.string().max(256).optional(),
  fallBackToLocalAccount: z.boolean().default(false),
  includeDefaultOrganization: z.boolean().default(false),
  /** `soap`: impersonate each user (delegated trust); `rest`: the API account's own view. */
  apiMode: z.enum(['soap', 'rest']).default('soap'),
  caBundle: caBundle(),
  releaseDurationMinutes: z.number().int().min(1).max(525_600).default(120),
  /** How long a list may wait for this vault before the others answer without it. */
  timeoutSeconds: z.number().int().min(1).max(120).default(10),
  /** Lets `endpointUrl` be plain `http://` (a lab or a simulator); every production vault speaks HTTPS. */
  allowInsecureHttp: z.boolean().default(false),
});
export type SecretServerSettings = z.infer<typeof SecretServerSettings>;

export function maskSecretServerSettings(settings: SecretServerSettings): Record<string, unknown> {
  return { ...settings, apiPassword: MASK };
}

export const secretServerType = defineVaultType({
  type: 'secret-server',
  title: 'Secret Server',
  settings: SecretServerSettings,
  urlField: 'endpointUrl',
  secretFields: ['apiPassword'],
  mask: maskSecretServerSettings,
});
