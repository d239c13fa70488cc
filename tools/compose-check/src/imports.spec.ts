import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadRepoFacts } from './compose-check';
import { runtimePackages } from './imports';

const root = resolve(__dirname, '../../..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

describe('what each service loads at run time', () => {
  const facts = loadRepoFacts(root);

  it.each(facts.services.map((s) => [s.name, s.entry] as const))('%s needs production dependencies only', (_name, entry) => {
    const packages = runtimePackages(root, entry);
    // Every app reaches Nest; every simulator reaches fastify: the walk did follow the workspace.
    expect(packages.has('@nestjs/core') || packages.has('fastify')).toBe(true);
    const missing = [...packages].filter(([name]) => !(name in manifest.dependencies)).map(([name, from]) => `${name} (imported by ${from})`);
    expect(missing).toEqual([]);
  });

  it('sees a dev dependency reached through the workspace aliases', () => {
    const packages = runtimePackages(root, 'libs/testing/src/index.ts');
    expect(packages.get('@nestjs/testing')).toBe('libs/testing/src/apps.ts');
    expect('@nestjs/testing' in manifest.devDependencies).toBe(true);
  });
});
