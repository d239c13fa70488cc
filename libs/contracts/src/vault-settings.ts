import { z } from 'zod';
import { VaultName } from './model';
import { VAULT_TYPES, maskFields, type VaultTypeDefinition } from './vault-types';

export * from './vault-types';

type Definitions = typeof VAULT_TYPES;
type Definition = Definitions[number];
export type VaultKind = Definition['type'];

/** The vault types, derived from VAULT_TYPES. */
export const VaultType = z.enum(VAULT_TYPES.map((d) => d.type) as unknown as readonly [VaultKind, ...VaultKind[]]);
export type VaultType = z.infer<typeof VaultType>;

type ConnectionSchemaOf<D> = D extends { type: infer T extends string; settings: infer S extends z.ZodObject }
  ? z.ZodObject<{ type: z.ZodLiteral<T>; settings: S }, z.core.$strict>
  : never;
type SchemasOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: ConnectionSchemaOf<T[K]> };
type ConnectionSchemas = SchemasOf<Definitions>;

/** One `{type, settings}` schema per registered vault type, in VAULT_TYPES' order. */
export const VAULT_CONNECTION_SCHEMAS = VAULT_TYPES.map((d) => z.strictObject({ type: z.literal(d.type), settings: d.settings })) as unknown as ConnectionSchemas;

export const VaultConnectionInput = z.discriminatedUnion('type', VAULT_CONNECTION_SCHEMAS);
export type VaultConnectionInput = z.infer<typeof VaultConnectionInput>;

/** The registered definition of a vault type. */
export function vaultTypeOf<T extends VaultKind>(type: T): Extract<Definition, { type: T }> {
  const found = VAULT_TYPES.find((d) => d.type === type);
  if (!found) throw new Error(`unregistered vault type ${type}`);
  return found as Extract<Definition, { type: T }>;
}

/** The setting that holds a connection's vault URL, as a field path of the connection. */
export function vaultUrlField(input: VaultConnectionInput): { field: string; url: string } {
  const key = vaultTypeOf(input.type).urlField;
  return { field: `settings.${key}`, url: String((input.settings as Record<string, unknown>)[key]) };
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
  type: VaultType,
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

/** Any connection's settings as they may be shown: every secret replaced by the mask. */
export function maskSettings(input: VaultConnectionInput): Record<string, unknown> {
  const definition = vaultTypeOf(input.type) as VaultTypeDefinition;
  const settings = input.settings as Record<string, unknown>;
  return definition.mask ? definition.mask(settings) : maskFields(settings, definition.secretFields);
}

export { VaultName };
