/**
 * Checks docker-compose.yml without a Docker engine: the Compose Specification schema, then what a user
 * would otherwise find out at `docker compose up` — an app with no service, a variable no app reads, a
 * missing key, a health check probing the wrong port, a URL naming a service that is not there.
 *
 * Facts about the apps are read from the repository, not restated here: which apps (apps/*) and vault
 * simulators (tools/*-sim serving on a port) there are, which config concerns each app reads (its source
 * and the libraries it imports), which variable sets its listen port (its main.ts), which variables are
 * keyrings, and what each simulator's environment schema declares.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import * as openecmConfig from '@openecm/config';
import { configErrors, isConfigDefinition, loadConfig, type ConfigDefinition } from '@openecm/config';
import { Keyring } from '@openecm/crypto';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import draft07 from 'ajv/dist/refs/json-schema-draft-07.json';
import { parseDocument } from 'yaml';
import type { z } from 'zod';

export type Env = Record<string, string>;
type Mapping = Record<string, unknown>;
type Concern = ConfigDefinition<z.ZodObject>;

/** One of our own services: an app under apps/ or a simulator under tools/, all built from the one Dockerfile. */
export interface OwnService {
  name: string;
  kind: 'app' | 'simulator';
  /** Entry file, relative to the repository root. */
  entry: string;
  readyPath: string;
  /** May publish host ports (the public edge, the demo simulators). */
  publishes: boolean;
  /** Variables the service reads, each with the concern (or schema) declaring it. */
  declared: Map<string, string>;
  /** The variables of `declared` whose schema has no default and is not optional. */
  required: string[];
  /** Validates the service's environment as the service itself will at boot; returns problems. */
  validate(env: Env): string[];
  /** The port the service listens on with this environment, or a problem. */
  listenPort(env: Env): number | string;
}

export interface RepoFacts {
  root: string;
  services: OwnService[];
  /** Every variable libs/config declares, with its concern's name. */
  configVariables: Map<string, string>;
  /** The variables libs/config marks sensitive: secrets, or URLs that may carry a password. */
  sensitiveVariables: Set<string>;
  validateSchema: ValidateFunction;
}

/** The Compose Specification schema, kept in the repository (see its README for source and licence). */
export const SCHEMA_RELATIVE_PATH = 'tools/compose-check/schema/compose-spec.json';
/** A folder of tools/ with this suffix whose main.ts listens on a port is a simulator service. */
export const SIMULATOR_SUFFIX = '-sim';
/** The appliance API is the system's one public edge; the other apps talk over NATS only. */
const PUBLIC_APPS = new Set(['appliance-gateway']);
/** Host names that, inside a container or pod, name the container itself. */
export const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '0.0.0.0']);
const OTLP_ENDPOINTS = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'];

// ---------------------------------------------------------------------------------------------- loading

export function loadComposeFile(path: string): unknown {
  if (!existsSync(path)) throw new Error(`${path} does not exist`);
  return parseComposeText(readFileSync(path, 'utf8'), path);
}

export function parseComposeText(text: string, name = 'compose file'): unknown {
  // Compose (go-yaml) honours YAML merge keys `<<:`; without `merge` they would stay literal keys.
  const doc = parseDocument(text, { merge: true, uniqueKeys: true, prettyErrors: true });
  const errors = [...doc.errors, ...doc.warnings];
  if (errors.length > 0) throw new Error(`${name} is not valid YAML:\n${errors.map((e) => e.message).join('\n')}`);
  return doc.toJS({ maxAliasCount: 1000 });
}

/** `KEY=value` lines, as compose reads a .env file (no export, no multi-line values). */
export function parseEnvFile(text: string): Env {
  const env: Env = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match || line.trimStart().startsWith('#')) continue;
    const [, key, value] = match as unknown as [string, string, string];
    env[key] = value.replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

export function compileComposeSchema(root: string): ValidateFunction {
  const path = resolve(root, SCHEMA_RELATIVE_PATH);
  if (!existsSync(path)) {
    throw new Error(
      `The Compose Specification schema is missing: expected ${path} (${SCHEMA_RELATIVE_PATH} from the repository ` +
        'root). Without it docker-compose.yml cannot be validated.',
    );
  }
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  // The schema names its meta-schema with https and no `#`; Ajv ships draft-07 under the http id.
  ajv.addMetaSchema({ ...draft07, $id: 'https://json-schema.org/draft-07/schema' });
  return ajv.compile(JSON.parse(readFileSync(path, 'utf8')) as object);
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** The text of an app's own code and of every workspace library it reaches by `@openecm/...` imports. */
function reachableSource(appDir: string, aliases: Map<string, string>): string {
  const seen = new Set<string>();
  const pending = [appDir];
  const texts: string[] = [];
  while (pending.length > 0) {
    const dir = pending.pop() as string;
    if (seen.has(dir)) continue;
    seen.add(dir);
    for (const file of sourceFiles(dir)) {
      const text = readFileSync(file, 'utf8');
      texts.push(text);
      for (const [, alias] of text.matchAll(/(?:from|import)\s+'(@openecm\/[a-z0-9/-]+)'/g)) {
        const target = aliases.get(alias ?? '');
        if (target) pending.push(target);
      }
    }
  }
  return texts.join('\n');
}

export function loadRepoFacts(root: string): RepoFacts {
  const concerns = new Map<string, Concern>(
    (Object.entries(openecmConfig) as Array<[string, unknown]>).filter((entry): entry is [string, Concern] => isConfigDefinition(entry[1])),
  );
  const configVariables = new Map<string, string>();
  const sensitiveVariables = new Set<string>();
  for (const concern of concerns.values()) {
    for (const key of Object.keys(concern.schema.shape)) configVariables.set(key, concern.name);
    for (const key of concern.sensitive) sensitiveVariables.add(key);
  }

  // `@openecm/x` -> its source folder, from the same tsconfig paths the loader uses. libs/config is left
  // out: it defines every concern, reading none.
  const { compilerOptions } = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')) as {
    compilerOptions: { paths: Record<string, string[]> };
  };
  const aliases = new Map<string, string>();
  for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
    if (target && !target.startsWith('libs/config/')) aliases.set(alias, join(root, target, '..'));
  }

  const services: OwnService[] = [];
  const appsDir = join(root, 'apps');
  for (const name of readdirSync(appsDir).sort()) {
    const entry = `apps/${name}/src/main.ts`;
    if (!existsSync(join(root, entry))) continue;
    const source = reachableSource(join(appsDir, name, 'src'), aliases);
    const used = [...concerns].filter(([exportName]) => new RegExp(`\\b${exportName}\\b`).test(source));
    const main = readFileSync(join(root, entry), 'utf8');
    const portVariable = /port:\s*(?:loadConfig\(\w+\)|config)\.([A-Z][A-Z0-9_]*)/.exec(main)?.[1];
    const hostVariable = /host:\s*(?:loadConfig\(\w+\)|config)\.([A-Z][A-Z0-9_]*)/.exec(main)?.[1];
    const keyrings = [...source.matchAll(/Keyring\.parse\(loadConfig\(\w+\)\.([A-Z][A-Z0-9_]*)\)/g)].map((m) => m[1] as string);
    services.push(appService(name, entry, used.map(([, c]) => c), { port: portVariable, host: hostVariable }, new Set(keyrings)));
  }
  for (const name of simulatorNames(root)) services.push(simulatorService(root, name));

  return { root, services, configVariables, sensitiveVariables, validateSchema: compileComposeSchema(root) };
}

function appService(
  name: string,
  entry: string,
  used: Concern[],
  listen: { port: string | undefined; host: string | undefined },
  keyrings: Set<string>,
): OwnService {
  const portVariable = listen.port;
  const hostVariable = listen.host;
  const declared = new Map<string, string>();
  const required: string[] = [];
  for (const concern of used) {
    for (const [key, schema] of Object.entries(concern.schema.shape) as Array<[string, z.ZodType]>) {
      declared.set(key, concern.name);
      if (!schema.safeParse(undefined).success) required.push(key);
    }
  }
  const portConcern = used.find((c) => portVariable !== undefined && portVariable in c.schema.shape);
  const hostConcern = used.find((c) => hostVariable !== undefined && hostVariable in c.schema.shape);
  return {
    name,
    kind: 'app',
    entry,
    readyPath: '/health/ready',
    publishes: PUBLIC_APPS.has(name),
    declared,
    required,
    validate(env) {
      // ConfigError names variables and rules, never a value, so a secret does not reach the output.
      const problems = configErrors(used, env).map((error) => error.message);
      for (const variable of keyrings) {
        const spec = env[variable];
        if (!spec) continue;
        try {
          Keyring.parse(spec);
        } catch (error) {
          problems.push(`${variable}: ${(error as Error).message}`);
        }
      }
      // An app binding loopback (the ops port's default) answers only itself: no probe, scraper or container reaches it.
      if (hostVariable && hostConcern) {
        try {
          const host = String(loadConfig(hostConcern, env)[hostVariable]);
          if (!['0.0.0.0', '::'].includes(host)) {
            problems.push(`${hostVariable} is ${host}: in a container only 0.0.0.0 (or ::) is reachable by probes, scrapers and other containers`);
          }
        } catch {
          // the concern's own error is reported above
        }
      }
      return problems;
    },
    listenPort(env) {
      if (!portVariable || !portConcern) {
        return `cannot tell from ${entry} which variable sets its listen port (expected \`port: loadConfig(x).SOME_PORT\`)`;
      }
      try {
        return Number(loadConfig(portConcern, env)[portVariable]);
      } catch {
        return `${portVariable} is invalid`;
      }
    },
  };
}

/**
 * The simulators: folders `tools/*-sim` whose main.ts starts a server (`.listen(...)`), as the Dockerfile maps
 * an APP ending in -sim to tools/$APP/src/main.ts. A -sim that only drives the system as a client (the
 * appliance simulator) listens on nothing and is no service.
 */
export function simulatorNames(root: string): string[] {
  const toolsDir = join(root, 'tools');
  return readdirSync(toolsDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name.endsWith(SIMULATOR_SUFFIX))
    .map((e) => e.name)
    .filter((name) => {
      const entry = join(toolsDir, name, 'src', 'main.ts');
      return existsSync(entry) && /\.listen\(/.test(readFileSync(entry, 'utf8'));
    })
    .sort();
}

/**
 * A simulator's variables come from its own zod schema in main.ts, which is not exported (main starts it);
 * its port and host variables from the `.listen(env.X_PORT, env.X_HOST)` call.
 */
function simulatorService(root: string, name: string): OwnService {
  const entry = `tools/${name}/src/main.ts`;
  const main = readFileSync(join(root, entry), 'utf8');
  const body = /const envSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(main)?.[1];
  if (!body) throw new Error(`cannot find \`const envSchema = z.object({...})\` in ${entry}`);
  const listen = /\.listen\(\s*env\.([A-Z][A-Z0-9_]*)\s*,\s*env\.([A-Z][A-Z0-9_]*)\s*\)/.exec(main);
  if (!listen) throw new Error(`cannot find \`.listen(env.SOME_PORT, env.SOME_HOST)\` in ${entry}`);
  const [, portVariable, hostVariable] = listen as unknown as [string, string, string];
  const declared = new Map([...body.matchAll(/^\s+([A-Z][A-Z0-9_]*):/gm)].map((m) => [m[1] as string, name]));
  for (const variable of [portVariable, hostVariable]) {
    if (!declared.has(variable)) throw new Error(`${entry} listens on env.${variable}, which its envSchema does not declare`);
  }
  const defaultOf = (variable: string): string | undefined =>
    new RegExp(`^\\s+${variable}:.*\\.default\\((?:(\\d+)|'([^']*)')\\)`, 'm').exec(body)?.slice(1).find((v) => v !== undefined);
  const defaultPort = defaultOf(portVariable);
  const defaultHost = defaultOf(hostVariable) ?? '127.0.0.1';
  return {
    name,
    kind: 'simulator',
    entry,
    readyPath: '/_sim/stats',
    publishes: true,
    declared,
    required: [],
    validate(env) {
      const host = env[hostVariable] ?? defaultHost;
      return ['0.0.0.0', '::'].includes(host)
        ? []
        : [`${hostVariable} is ${host}: in a container only 0.0.0.0 (or ::) is reachable from other containers and the published port`];
    },
    listenPort(env) {
      const port = Number(env[portVariable] ?? defaultPort);
      return Number.isInteger(port) && port > 0 && port <= 65535
        ? port
        : `${portVariable} is ${env[portVariable] ?? 'unset with no default found'}: set a fixed port so the healthcheck can reach it`;
    },
  };
}

// ------------------------------------------------------------------------------------------ interpolation

export interface InterpolationUse {
  name: string;
  where: string;
  hasDefault: boolean;
}

/**
 * Compose interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
 * `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`. Nested interpolation inside a default is reported, not resolved.
 */
export function interpolate(
  text: string,
  env: Env,
  where: string,
  uses: InterpolationUse[],
  problems: string[],
): string {
  return text.replace(
    /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*)|(\{[^}]*\}?))/g,
    (whole, dollar?: string, braced?: string, op?: string, arg = '', bare?: string, bad?: string) => {
      if (dollar) return '$';
      if (bad !== undefined) {
        problems.push(`${where}: malformed interpolation ${whole}`);
        return whole;
      }
      const name = (braced ?? bare) as string;
      const value = env[name];
      const isSet = value !== undefined;
      const nonEmpty = isSet && value !== '';
      if (arg.includes('$')) problems.push(`${where}: nested interpolation in ${whole} is not checked; avoid it`);
      uses.push({ name, where, hasDefault: op === ':-' || op === '-' });
      switch (op) {
        case ':-':
          return nonEmpty ? value : arg;
        case '-':
          return isSet ? value : arg;
        case ':?':
        case '?':
          if (op === ':?' ? !nonEmpty : !isSet) problems.push(`${where}: ${name} is required: ${arg}`);
          return value ?? '';
        case ':+':
          return nonEmpty ? arg : '';
        case '+':
          return isSet ? arg : '';
        default:
          return value ?? '';
      }
    },
  );
}

function interpolateTree(node: unknown, env: Env, where: string, uses: InterpolationUse[], problems: string[]): unknown {
  if (typeof node === 'string') return interpolate(node, env, where, uses, problems);
  if (Array.isArray(node)) return node.map((item, i) => interpolateTree(item, env, `${where}[${i}]`, uses, problems));
  if (node !== null && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [key, interpolateTree(value, env, where ? `${where}.${key}` : key, uses, problems)]),
    );
  }
  return node;
}

/** Every `${VAR}` the file interpolates, with where and whether it has a default. */
export function interpolations(raw: unknown): InterpolationUse[] {
  const uses: InterpolationUse[] = [];
  interpolateTree(raw, {}, '', uses, []);
  return uses;
}

// ----------------------------------------------------------------------------------------------- checks

export function asMapping(value: unknown): Mapping | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Mapping) : undefined;
}

/** The `environment` of a service as a map; a list entry `KEY` alone (taken from the host) counts as unset. */
export function environmentOf(service: Mapping): Env {
  const env: Env = {};
  const raw = service['environment'];
  if (Array.isArray(raw)) {
    for (const item of raw) {
      const [key, ...rest] = String(item).split('=');
      if (key && rest.length > 0) env[key] = rest.join('=');
    }
  } else {
    for (const [key, value] of Object.entries(asMapping(raw) ?? {})) {
      if (value !== null && value !== undefined) env[key] = String(value);
    }
  }
  return env;
}

interface PortMapping {
  published?: string;
  target: string;
  protocol: string;
}

export function parsePort(entry: unknown): PortMapping | undefined {
  const long = asMapping(entry);
  if (long) {
    if (long['target'] === undefined) return undefined;
    const published = long['published'];
    return {
      target: String(long['target']),
      ...(published === undefined ? {} : { published: String(published) }),
      protocol: String(long['protocol'] ?? 'tcp'),
    };
  }
  if (typeof entry !== 'string' && typeof entry !== 'number') return undefined;
  const [spec = '', protocol = 'tcp'] = String(entry).split('/');
  const withoutIp = spec.startsWith('[') ? spec.slice(spec.indexOf(']:') + 2) : spec;
  const parts = withoutIp.split(':');
  const target = parts.at(-1) ?? '';
  const published = parts.length >= 2 ? parts.at(-2) : undefined;
  return { target, ...(published ? { published } : {}), protocol };
}

function dependsOn(service: Mapping): Map<string, { condition: string }> {
  const raw = service['depends_on'];
  if (Array.isArray(raw)) return new Map(raw.map((name) => [String(name), { condition: 'service_started' }]));
  return new Map(
    Object.entries(asMapping(raw) ?? {}).map(([name, v]) => [name, { condition: String(asMapping(v)?.['condition'] ?? 'service_started') }]),
  );
}

function hasHealthcheck(service: Mapping | undefined): boolean {
  const hc = asMapping(service?.['healthcheck']);
  if (!hc || hc['disable'] === true) return false;
  const test = hc['test'];
  return test !== undefined && !(Array.isArray(test) && test[0] === 'NONE') && test !== 'NONE';
}

/** The value as a URL when it is one (`scheme://...`), else undefined. */
export function urlOf(value: string): URL | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function formatSchemaError(e: ErrorObject): string {
  const params = e.keyword === 'additionalProperties' ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'` : '';
  return `schema: ${e.instancePath || '/'} ${e.message ?? e.keyword}${params}`;
}

/**
 * Every problem found in a parsed compose file, as sentences; empty when the file is good. `env` stands for
 * the shell environment and .env file compose would interpolate from; the default is none at all, as on a
 * fresh clone.
 */
export function checkCompose(raw: unknown, facts: RepoFacts, env: Env = {}): string[] {
  const problems: string[] = [];
  const top = asMapping(raw);
  if (!top) return ['the compose file is not a mapping'];
  if ('version' in top) problems.push('`version:` is obsolete in the Compose Specification; remove it');

  const uses: InterpolationUse[] = [];
  const doc = asMapping(interpolateTree(top, env, '', uses, problems)) as Mapping;
  for (const use of uses) {
    if (!use.hasDefault && env[use.name] === undefined) {
      problems.push(`${use.where}: \${${use.name}} has no default, so without a .env it is empty; write \${${use.name}:-demo-value}`);
    }
  }

  if (!facts.validateSchema(doc)) {
    problems.push(...(facts.validateSchema.errors ?? []).map(formatSchemaError));
  }

  const services = asMapping(doc['services']) ?? {};
  const serviceNames = new Set(Object.keys(services));
  const declaredVolumes = new Set(Object.keys(asMapping(doc['volumes']) ?? {}));
  const publishedBy = new Map<string, string>();

  // Checks that hold for any service.
  for (const [name, value] of Object.entries(services)) {
    const service = asMapping(value) ?? {};
    for (const [dependency, { condition }] of dependsOn(service)) {
      if (!serviceNames.has(dependency)) problems.push(`${name}: depends_on ${dependency}, which is not a service`);
      else if (condition === 'service_healthy' && !hasHealthcheck(asMapping(services[dependency]))) {
        problems.push(`${name}: waits for ${dependency} to be healthy, but ${dependency} has no healthcheck`);
      }
    }
    for (const volume of Array.isArray(service['volumes']) ? service['volumes'] : []) {
      const source = typeof volume === 'string' ? volume.split(':')[0] : String(asMapping(volume)?.['source'] ?? '');
      const named = source && !/^[./~]/.test(source) && asMapping(volume)?.['type'] !== 'bind';
      if (named && !declaredVolumes.has(source)) problems.push(`${name}: volume ${source} is not declared under top-level volumes`);
    }
    for (const entry of Array.isArray(service['ports']) ? service['ports'] : []) {
      const port = parsePort(entry);
      if (!port?.published) continue;
      const key = `${port.published}/${port.protocol}`;
      const other = publishedBy.get(key);
      if (other) problems.push(`${name}: host port ${key} is also published by ${other}`);
      publishedBy.set(key, name);
    }
  }

  // Our own services.
  const images = new Map<string, string>();
  for (const own of facts.services) {
    const service = asMapping(services[own.name]);
    if (!service) {
      problems.push(`${own.name}: no service (${own.entry} exists); every app and every simulator runs in compose`);
      continue;
    }
    problems.push(...checkOwnService(own, service, services, facts, images).map((p) => `${own.name}: ${p}`));
  }
  const patterns = new Set(images.values());
  if (patterns.size > 1) {
    problems.push(`images do not share one name pattern <prefix>/<service>:<tag>: ${[...images].map(([s, i]) => `${s}=${i}`).join(', ')}`);
  }
  return problems;
}

/**
 * What is wrong with the environment a service is given, whatever sets it (compose, Kubernetes): a variable
 * the service never reads (naming the concern or simulator that does), a required one missing, or a value
 * the service's own schemas reject at boot.
 */
export function environmentProblems(own: OwnService, env: Env, facts: RepoFacts): string[] {
  const problems: string[] = [];
  const simulator = own.kind === 'simulator';
  for (const variable of Object.keys(env)) {
    if (variable.startsWith('OTEL_') || own.declared.has(variable)) continue;
    const concern = facts.configVariables.get(variable);
    if (concern && !simulator) {
      problems.push(`sets ${variable}, declared by the ${concern} concern, which ${own.name} never reads`);
      continue;
    }
    // A variable copied from another simulator's service is the likely mistake; name the one that reads it.
    const reader = facts.services.find((s) => s !== own && s.kind === 'simulator' && s.declared.has(variable));
    problems.push(
      `sets ${variable}, which ${simulator ? 'the simulator\'s environment schema' : 'libs/config'} does not declare` +
        (reader ? ` (${reader.name} reads it)` : ''),
    );
  }
  for (const variable of own.required) {
    if (!env[variable]) problems.push(`does not set ${variable}, required by the ${own.declared.get(variable)} concern`);
  }
  problems.push(...own.validate(env));
  return problems;
}

function checkOwnService(
  own: OwnService,
  service: Mapping,
  services: Mapping,
  facts: RepoFacts,
  images: Map<string, string>,
): string[] {
  const problems: string[] = [];

  // Build and image: one Dockerfile, the APP argument picks the entry.
  const build = asMapping(service['build']);
  if (!build) {
    problems.push('has no build: it must be built from the Dockerfile with args.APP');
  } else {
    const context = resolve(facts.root, String(build['context'] ?? '.'));
    if (context !== resolve(facts.root)) problems.push(`build.context is ${relative(facts.root, context)}, not the repository root`);
    if ((build['dockerfile'] ?? 'Dockerfile') !== 'Dockerfile') problems.push(`build.dockerfile is ${String(build['dockerfile'])}, not Dockerfile`);
    const app = asMapping(build['args'])?.['APP'];
    if (app !== own.name) problems.push(`build.args.APP is ${app === undefined ? 'unset' : String(app)}, not ${own.name}`);
  }
  const image = typeof service['image'] === 'string' ? service['image'] : '';
  const pattern = new RegExp(`^(.+)/${own.name}:(.+)$`).exec(image);
  if (!pattern) problems.push(`image ${image || '(none)'} is not <prefix>/${own.name}:<tag>`);
  else images.set(own.name, `${pattern[1]}/*:${pattern[2]}`);

  if (service['pull_policy'] !== 'build') problems.push('needs pull_policy: build, so `docker compose pull` never fetches a stranger\'s image of that name');
  if (service['container_name'] !== undefined) problems.push('has a container_name, so it cannot be scaled');
  if (service['init'] !== true) problems.push('needs init: true (signals and zombie reaping; the image runs no init)');
  if (service['restart'] !== 'unless-stopped') problems.push(`restart is ${String(service['restart'] ?? 'unset')}, not unless-stopped`);
  if (service['env_file'] !== undefined) problems.push('uses env_file, which this check cannot see; set variables under environment');

  // Environment: only what the service reads, everything it requires, and values it will accept.
  const env = environmentOf(service);
  const simulator = own.kind === 'simulator';
  problems.push(...environmentProblems(own, env, facts));

  // URLs to other services: resolvable, waited for, and with matching credentials.
  const dependencies = dependsOn(service);
  for (const [variable, value] of Object.entries(env)) {
    const url = urlOf(value);
    if (!url) continue;
    const host = url.hostname;
    if (LOOPBACK.has(host)) {
      problems.push(`${variable} points at ${host}, which inside a container is the container itself`);
      continue;
    }
    const isOtlp = OTLP_ENDPOINTS.includes(variable);
    if (!(host in services)) {
      if (isOtlp) problems.push(`${variable} points at ${host}, which is not a service of this file`);
      continue;
    }
    if (isOtlp && url.port === '4317') problems.push(`${variable} uses 4317 (OTLP/gRPC); the apps export OTLP/HTTP, on 4318`);
    const dependency = dependencies.get(host);
    const healthy = hasHealthcheck(asMapping(services[host]));
    if (!dependency) problems.push(`${variable} points at ${host}, but depends_on does not list ${host}`);
    else if (healthy && dependency.condition !== 'service_healthy') {
      problems.push(`depends_on ${host} with ${dependency.condition}; it has a healthcheck, so wait for service_healthy`);
    }
    if (/^postgres(ql)?:$/.test(url.protocol)) problems.push(...checkPostgresCredentials(variable, url, asMapping(services[host]) ?? {}));
  }

  // Health check: probes the right port and path with what the slim image has.
  const port = own.listenPort(env);
  if (typeof port === 'string') problems.push(port);
  else if (!simulator && port === 0) problems.push('listens on a random port (0): set its port variable so the healthcheck can reach it');
  const healthcheck = asMapping(service['healthcheck']);
  if (!hasHealthcheck(service)) {
    problems.push(`has no healthcheck on ${own.readyPath}`);
  } else {
    const test = healthcheck?.['test'];
    const command = Array.isArray(test) ? test.map(String) : ['CMD-SHELL', String(test)];
    const program = command[0] === 'CMD' ? command[1] : (command[1] ?? '').trim().split(/\s+/)[0];
    if (program !== 'node') problems.push(`healthcheck runs ${program}; node:20-bookworm-slim has node but neither curl nor wget`);
    const probe = /https?:\/\/(?:127\.0\.0\.1|localhost):(\d+)(\/[^'"`\s)]*)/.exec(command.join(' '));
    if (!probe) problems.push(`healthcheck does not probe http://127.0.0.1:<port>${own.readyPath}`);
    else {
      if (probe[2] !== own.readyPath) problems.push(`healthcheck probes ${probe[2]}, not ${own.readyPath}`);
      if (typeof port === 'number' && Number(probe[1]) !== port) problems.push(`healthcheck probes port ${probe[1]}, but the service listens on ${port}`);
    }
  }

  // Ports: only the public edge and the demo simulators publish; the rest must scale.
  const ports = (Array.isArray(service['ports']) ? service['ports'] : []).map(parsePort);
  if (!own.publishes && ports.length > 0) problems.push('publishes ports, so `--scale` would collide on the host port; only the gateway publishes');
  for (const mapping of ports) {
    if (typeof port === 'number' && mapping && Number(mapping.target) !== port) {
      problems.push(`publishes container port ${mapping.target}, but the service listens on ${port}`);
    }
  }
  return problems;
}

/** A database URL against the user and password a postgres container (its `environment`) creates. */
export function checkPostgresCredentials(variable: string, url: URL, postgres: Mapping): string[] {
  const env = environmentOf(postgres);
  if ((env['POSTGRES_HOST_AUTH_METHOD'] ?? '') === 'trust') return [];
  const problems: string[] = [];
  const user = decodeURIComponent(url.username) || 'postgres';
  const expectedUser = env['POSTGRES_USER'] || 'postgres';
  if (user !== expectedUser) problems.push(`${variable} logs in as ${user}, but the postgres service creates ${expectedUser}`);
  if (env['POSTGRES_PASSWORD'] === undefined) problems.push('the postgres service sets neither POSTGRES_PASSWORD nor POSTGRES_HOST_AUTH_METHOD');
  // Compared, never printed: both are secrets.
  else if (decodeURIComponent(url.password) !== env['POSTGRES_PASSWORD']) {
    problems.push(`${variable} has a password that is not the postgres service's POSTGRES_PASSWORD (or is not URL-encoded)`);
  }
  if (url.port && url.port !== '5432') problems.push(`${variable} uses port ${url.port}; postgres listens on 5432`);
  return problems;
}
