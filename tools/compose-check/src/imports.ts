/**
 * What a service loads at run time, read from its sources: starting at its entry, every value import and
 * require is followed through the workspace (relative paths and the @openecm/* aliases of tsconfig.base.json)
 * and the npm packages reached are collected. Type-only imports are left out: they vanish in the build.
 * The image carries production dependencies only, so a service that reaches a dev dependency dies at start.
 */
import { builtinModules } from 'node:module';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const SPECIFIER = /(?:^|[\s;])(?:import|export)\s+(?!type\s)(?:[\w*${}\s,]+?\s+from\s+)?['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)/gm;

function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(SPECIFIER)) {
    // `import { type A, type B } from 'x'` is type-only as well.
    const names = /^\s*(?:import|export)\s*\{([^}]*)\}\s*from/.exec(match[0])?.[1];
    const onlyTypes = names?.split(',').map((n) => n.trim()).filter(Boolean).every((n) => n.startsWith('type ')) ?? false;
    if (!onlyTypes) found.push((match[1] ?? match[2]) as string);
  }
  return found;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

function asFile(path: string): string | undefined {
  for (const candidate of [path, `${path}.ts`, join(path, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** The file an `@openecm/*` alias names, a wildcard alias (`@openecm/vault-type/*`) with its `*` filled in. */
function aliasTarget(paths: Record<string, [string]>, specifier: string): string | undefined {
  const exact = paths[specifier]?.[0];
  if (exact) return exact;
  for (const [alias, [target]] of Object.entries(paths)) {
    const star = alias.indexOf('*');
    if (star < 0 || !specifier.startsWith(alias.slice(0, star)) || !specifier.endsWith(alias.slice(star + 1))) continue;
    const part = specifier.slice(star, specifier.length - (alias.length - star - 1));
    if (part && !part.includes('/')) return target.replace('*', part);
  }
  return undefined;
}

/** The npm packages (not node built-ins) the entry reaches, each with one file that imports it. */
export function runtimePackages(root: string, entry: string): Map<string, string> {
  const { compilerOptions } = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')) as {
    compilerOptions: { paths: Record<string, [string]> };
  };
  const builtins = new Set(builtinModules);
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const queue = [resolve(root, entry)];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
      const alias = aliasTarget(compilerOptions.paths, specifier);
      const local = alias ? resolve(root, alias) : specifier.startsWith('.') ? asFile(resolve(dirname(file), specifier)) : undefined;
      if (local) {
        queue.push(local);
      } else if (!specifier.startsWith('node:') && !builtins.has(specifier) && !specifier.startsWith('.')) {
        const name = packageName(specifier);
        if (!packages.has(name)) packages.set(name, file.slice(root.length + 1));
      }
    }
  }
  return packages;
}
