import { z } from 'zod';

/**
 * A config concern: a zod schema over environment variables plus the names whose values are secret.
 * Values are read and validated once; the error names the variables, never a secret's value.
 */
export interface ConfigDefinition<S extends z.ZodObject> {
  readonly name: string;
  readonly schema: S;
  readonly sensitive: ReadonlyArray<keyof z.infer<S> & string>;
}

export class ConfigError extends Error {
  constructor(
    readonly concern: string,
    readonly issues: ReadonlyArray<{ variable: string; problem: string }>,
  ) {
    super(
      `invalid ${concern} configuration: ${issues.map((i) => `${i.variable}: ${i.problem}`).join('; ')}`,
    );
    this.name = 'ConfigError';
  }
}

export function defineConfig<S extends z.ZodObject>(
  name: string,
  schema: S,
  sensitive: ReadonlyArray<keyof z.infer<S> & string> = [],
): ConfigDefinition<S> {
  return { name, schema, sensitive };
}

type Env = Record<string, string | undefined>;

export function loadConfig<S extends z.ZodObject>(
  definition: ConfigDefinition<S>,
  env: Env = process.env,
): z.infer<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(definition.schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = definition.schema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      definition.name,
      parsed.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? definition.name),
        problem: issue.message,
      })),
    );
  }
  return parsed.data;
}

/**
 * `loadConfig` for a value read on every request: the variables are parsed again only when one of them changed
 * since the last read (an unset and an empty variable are the same, as for loadConfig). A value that does not
 * parse throws every time it is read.
 */
export function configReader<S extends z.ZodObject>(definition: ConfigDefinition<S>): () => z.infer<S> {
  const keys = Object.keys(definition.schema.shape);
  let last: { raw: string; value: z.infer<S> } | undefined;
  return () => {
    const raw = keys.map((key) => process.env[key] ?? '').join('\u0000');
    if (last === undefined || last.raw !== raw) last = { raw, value: loadConfig(definition) };
    return last.value;
  };
}

/** The configuration as it may be printed: every sensitive value replaced. */
export function describeConfig<S extends z.ZodObject>(
  definition: ConfigDefinition<S>,
  values: z.infer<S>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...values };
  for (const key of definition.sensitive) {
    if (out[key] !== undefined) out[key] = '********';
  }
  return out;
}

/** Raw read for the few places (test harness, tools) that must pass the environment on unchanged. */
export function environment(): Env {
  return process.env;
}

/** True for a value made by defineConfig (the tools find every concern among a module's exports with it). */
export function isConfigDefinition(value: unknown): value is ConfigDefinition<z.ZodObject> {
  const v = value as Partial<ConfigDefinition<z.ZodObject>> | null;
  return typeof v?.name === 'string' && Array.isArray(v.sensitive) && typeof v.schema?.shape === 'object';
}

/** What is wrong with `env` for each of these concerns, as a service would report it at boot; empty when nothing. */
export function configErrors(concerns: ReadonlyArray<ConfigDefinition<z.ZodObject>>, env: Env): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const concern of concerns) {
    try {
      loadConfig(concern, env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      errors.push(error);
    }
  }
  return errors;
}
