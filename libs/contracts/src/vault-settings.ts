import { z } from 'zod';
import { VaultName } from './model';

export const MASK = '********';

const ApiKeyAuth = z.strictObject({
  mode: z.literal('api-key'),
  apiKey: z.string().min(1),
});
const OAuthAuth = z.strictObject({
  mode: z.literal('oauth'),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
});

export const PasswordSafeSettings = z.strictObject({
  baseUrl: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL'),
  auth: z.discriminatedUnion('mode', [ApiKeyAuth, OAuthAuth]),
  releaseDurationMinutes: z.number().int().min(1).max(525_600).default(120),
  rotateAfterRelease: z.boolean().default(true),
  caBundle: z.string().includes('-----BEGIN CERTIFICATE-----', { message: 'PEM certificate(s)' }).optional(),
  /** Lets `baseUrl` be plain `http://` (a lab or a simulator); every production vault speaks HTTPS. */
  allowInsecureHttp: z.boolean().default(false),
});
export type PasswordSafeSettings = z.infer<typeof PasswordSafeSettings>;

/** Entered as the plugin does ("CORP, LAB") or as a list; kept as a list. */
const commaList = z
  .union([z.string().max(1024), z.array(z.string().min(1).max(256)).max(64)])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((d) => d.trim()).filter(Boolean));

/** The remote-access plugin's settings table, plus the API mode and a CA bundle. */
export const SecretServerSettings = z.strictObject({
  /** The SOAP endpoint (`.../webservices/SSWebService.asmx`) or the Secret Server base URL. */
  endpointUrl: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL'),
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
  caBundle: z.string().includes('-----BEGIN CERTIFICATE-----', { message: 'PEM certificate(s)' }).optional(),
  releaseDurationMinutes: z.number().int().min(1).max(525_600).default(120),
  /** How long a list may wait for this vault before the others answer without it. */
  timeoutSeconds: z.number().int().min(1).max(120).default(10),
  /** Lets `endpointUrl` be plain `http://` (a lab or a simulator); every production vault speaks HTTPS. */
  allowInsecureHttp: z.boolean().default(false),
});
export type SecretServerSettings = z.infer<typeof SecretServerSettings>;

export const VaultConnectionInput = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('password-safe'), settings: PasswordSafeSettings }),
  z.strictObject({ type: z.literal('secret-server'), settings: SecretServerSettings }),
]);
export type VaultConnectionInput = z.infer<typeof VaultConnectionInput>;

/** The setting that holds a connection's vault URL, as a field path of the connection. */
export function vaultUrlField(input: VaultConnectionInput): { field: 'settings.baseUrl' | 'settings.endpointUrl'; url: string } {
  return input.type === 'password-safe'
    ? { field: 'settings.baseUrl', url: input.settings.baseUrl }
    : { field: 'settings.endpointUrl', url: input.settings.endpointUrl };
}

/**
 * What is wrong with a vault URL for a connection, or undefined: HTTPS unless the connection sets
 * `allowInsecureHttp`, and never a user name or password inside the URL (it would be logged and shown as the
 * URL is; credentials belong in the settings' secret fields). Checked when a connection is saved or tested and
 * again before each client is built, so a connection stored before the rule is refused with the same reason.
 */
export function vaultUrlProblem(url: string, allowInsecureHttp: boolean): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (parsed.username || parsed.password) return 'must not carry a user name or password (put credentials in the settings)';
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:') return allowInsecureHttp ? undefined : 'must be https (set allowInsecureHttp for a lab vault)';
  return 'must be an http(s) URL';
}

/** The URL rules of vaultUrlProblem as a zod refinement, for every schema a connection is submitted with. */
export function refineVaultUrl(input: VaultConnectionInput, ctx: z.RefinementCtx): void {
  const { field, url } = vaultUrlField(input);
  const problem = vaultUrlProblem(url, input.settings.allowInsecureHttp);
  if (problem) ctx.addIssue({ code: 'custom', path: field.split('.'), message: problem });
}

/** A connection as it may be saved: the settings schema plus the URL rules (stored ones parse without them). */
export const VaultConnectionSubmission = VaultConnectionInput.superRefine(refineVaultUrl);

/** A connection as it may be shown: every secret setting replaced by the mask. */
export const VaultConnectionView = z.strictObject({
  name: VaultName,
  type: z.enum(['password-safe', 'secret-server']),
  /**
   * `unreadable`: the settings were sealed with a key that is no longer configured; they are not shown
   * (settings is empty) and the vault is left out of every list until they are entered again.
   */
  status: z.enum(['ok', 'unreadable']),
  settings: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type VaultConnectionView = z.infer<typeof VaultConnectionView>;

export function maskPasswordSafeSettings(settings: PasswordSafeSettings): Record<string, unknown> {
  const auth =
    settings.auth.mode === 'api-key'
      ? { mode: 'api-key', apiKey: MASK }
      : { mode: 'oauth', clientId: settings.auth.clientId, clientSecret: MASK };
  return {
    baseUrl: settings.baseUrl,
    auth,
    releaseDurationMinutes: settings.releaseDurationMinutes,
    rotateAfterRelease: settings.rotateAfterRelease,
    allowInsecureHttp: settings.allowInsecureHttp,
    ...(settings.caBundle ? { caBundle: settings.caBundle } : {}),
  };
}

export function maskSecretServerSettings(settings: SecretServerSettings): Record<string, unknown> {
  return { ...settings, apiPassword: MASK };
}

/** Any connection's settings as they may be shown: every secret replaced by the mask. */
export function maskSettings(input: VaultConnectionInput): Record<string, unknown> {
  return input.type === 'password-safe' ? maskPasswordSafeSettings(input.settings) : maskSecretServerSettings(input.settings);
}

export { VaultName };
