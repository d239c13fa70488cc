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
});
export type PasswordSafeSettings = z.infer<typeof PasswordSafeSettings>;

export const VaultConnectionInput = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('password-safe'), settings: PasswordSafeSettings }),
]);
export type VaultConnectionInput = z.infer<typeof VaultConnectionInput>;

/** A connection as it may be shown: every secret setting replaced by the mask. */
export const VaultConnectionView = z.strictObject({
  name: VaultName,
  type: z.literal('password-safe'),
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
    ...(settings.caBundle ? { caBundle: settings.caBundle } : {}),
  };
}

export { VaultName };
