import { defineConfig, loadConfig } from '@openecm/config';
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/** The variables the CLI reads; the secret is marked so that no message ever shows it. */
export const cliConfig = defineConfig(
  'openecm CLI',
  z.object({
    OPENECM_URL: z.string().url().optional(),
    OPENECM_CLIENT_ID: z.string().min(1).optional(),
    OPENECM_CLIENT_SECRET: z.string().min(1).optional(),
    XDG_CONFIG_HOME: z.string().min(1).optional(),
  }),
  ['OPENECM_CLIENT_SECRET'],
);

const ConfigFile = z.strictObject({
  url: z.string().url().optional(),
  clientId: z.string().min(1).optional(),
  clientSecret: z.string().min(1).optional(),
});

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface Settings {
  url: string;
  /** Where the API account came from, to say so in a message (never the secret itself). */
  source: string;
  account?: { clientId: string; clientSecret: string };
  /** Things worth telling the user about the configuration, e.g. a config file others can read. */
  warnings: string[];
}

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

export function defaultConfigPath(env: Record<string, string | undefined>): string {
  const { XDG_CONFIG_HOME } = loadConfig(cliConfig, env);
  return join(XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'openecm', 'config.json');
}

function readConfigFile(path: string, explicit: boolean): { values: z.infer<typeof ConfigFile>; warnings: string[] } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (!explicit && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SettingsError(`cannot read the config file ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SettingsError(`the config file ${path} is not valid JSON`);
  }
  const parsed = ConfigFile.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => (i.code === 'unrecognized_keys' ? i.keys.join(', ') : i.path.join('.') || '(file)')).join(', ');
    throw new SettingsError(`the config file ${path} has bad or unknown fields: ${fields} (expected url, clientId, clientSecret)`);
  }
  const warnings: string[] = [];
  if (parsed.data.clientSecret && (statSync(path).mode & 0o077) !== 0) warnings.push(`${path} holds a client secret and others can read it: chmod 600 ${path}`);
  return { values: parsed.data, warnings };
}

/**
 * Where to find the gateway and which API account to sign in with: `--url` first, then the environment
 * (OPENECM_URL, OPENECM_CLIENT_ID, OPENECM_CLIENT_SECRET), then the config file (`--config`, or
 * `$XDG_CONFIG_HOME/openecm/config.json`, by default `~/.config/openecm/config.json`). Id and secret come
 * from the same place, so an id from one and a secret from another never mix.
 */
export function resolveSettings(flags: { url?: string; config?: string }, env: Record<string, string | undefined>): Settings {
  const vars = loadConfig(cliConfig, env);
  const path = flags.config ?? defaultConfigPath(env);
  const file = readConfigFile(path, flags.config !== undefined);
  const url = (flags.url ?? vars.OPENECM_URL ?? file?.values.url ?? DEFAULT_URL).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(url)) throw new SettingsError(`the gateway URL must be http(s): ${url}`);
  const warnings = file?.warnings ?? [];
  if (vars.OPENECM_CLIENT_ID || vars.OPENECM_CLIENT_SECRET) {
    if (!vars.OPENECM_CLIENT_ID || !vars.OPENECM_CLIENT_SECRET) {
      throw new SettingsError('set both OPENECM_CLIENT_ID and OPENECM_CLIENT_SECRET, or neither');
    }
    return { url, source: 'the environment', account: { clientId: vars.OPENECM_CLIENT_ID, clientSecret: vars.OPENECM_CLIENT_SECRET }, warnings };
  }
  if (file?.values.clientId && file.values.clientSecret) {
    return { url, source: path, account: { clientId: file.values.clientId, clientSecret: file.values.clientSecret }, warnings };
  }
  if (file?.values.clientId || file?.values.clientSecret) throw new SettingsError(`the config file ${path} must give both clientId and clientSecret, or neither`);
  return { url, source: 'nowhere', warnings };
}
