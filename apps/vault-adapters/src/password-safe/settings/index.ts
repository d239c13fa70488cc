import { z } from 'zod';
import { MASK, caBundle, defineVaultType, vaultAddress } from '@openecm/vault-type-kit';

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
  baseUrl: vaultAddress(),
  auth: z.discriminatedUnion('mode', [ApiKeyAuth, OAuthAuth]),
  releaseDurationMinutes: z.number().int().min(1).max(525_600).default(120),
  rotateAfterRelease: z.boolean().default(true),
  caBundle: caBundle(),
  /** Lets `baseUrl` be plain `http://` (a lab or a simulator); every production vault speaks HTTPS. */
  allowInsecureHttp: z.boolean().default(false),
});
export type PasswordSafeSettings = z.infer<typeof PasswordSafeSettings>;

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

export const passwordSafeType = defineVaultType({
  type: 'password-safe',
  title: 'Password Safe',
  settings: PasswordSafeSettings,
  urlField: 'baseUrl',
  secretFields: ['auth.apiKey', 'auth.clientSecret'],
  mask: maskPasswordSafeSettings,
});
