// `npm run build`: compiles every app, library and tool to CommonJS under dist/, in the repository's own
// layout (apps/<app>/src/main.ts becomes dist/apps/<app>/src/main.js), so `node dist/apps/<app>/src/main.js`
// runs with no TypeScript compiler at run time. Type checking is `npm run typecheck`; this step only emits.
//
// The transform is the one the tests and the dev loader use (.swcrc); the workspace aliases (@openecm/*) of
// tsconfig.base.json become relative requires, so the output needs nothing but node_modules.
//
// The web console (apps/console) is a browser app: Vite bundles it into dist/apps/console, which the gateway
// serves under /console. `--no-console` leaves it out (the tests that need only the services do).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
// `--out-dir DIR` builds elsewhere (the tests do, so a build never pulls files from under a running app).
const outFlag = process.argv.indexOf('--out-dir');
const out = outFlag > 0 ? resolve(process.argv[outFlag + 1] ?? 'dist') : join(root, 'dist');
const swcrc = JSON.parse(readFileSync(join(root, '.swcrc'), 'utf8'));
const { compilerOptions } = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8'));

const config = {
  ...swcrc,
  $schema: undefined,
  jsc: { ...swcrc.jsc, baseUrl: root, paths: compilerOptions.paths },
  // Source maps beside the files (not inline), so stack traces point at the TypeScript.
  sourceMaps: true,
};
const work = mkdtempSync(join(tmpdir(), 'openecm-build-'));
const configFile = join(work, 'swcrc.json');
writeFileSync(configFile, JSON.stringify(config));

rmSync(out, { recursive: true, force: true });
// browser apps (a Vite config beside their sources) are bundled below, not compiled for Node
const isBrowserApp = (dir) => existsSync(join(dir, 'vite.config.mjs'));
const sources = ['apps', 'libs', 'tools'].flatMap((top) =>
  readdirSync(join(root, top), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, top, entry.name, 'src')) && !isBrowserApp(join(root, top, entry.name)))
    .map((entry) => `${top}/${entry.name}/src`),
);
const swc = spawnSync(
  process.execPath,
  [
    join(root, 'node_modules/@swc/cli/bin/swc.js'),
    ...sources,
    '--out-dir', out,
    '--config-file', configFile,
    '--ignore', '**/*.spec.ts,**/*.int-spec.ts,**/*.e2e-spec.ts',
    '--copy-files',
    '--quiet',
  ],
  { cwd: root, stdio: 'inherit' },
);
rmSync(work, { recursive: true, force: true });
if (swc.status !== 0) process.exit(swc.status ?? 1);

// Data the compiled code reads beside its sources: the simulators' seeds, the Compose schema.
for (const top of ['apps', 'tools']) {
  for (const entry of readdirSync(join(root, top), { withFileTypes: true })) {
    for (const data of ['seed', 'schema']) {
      const from = join(root, top, entry.name, data);
      if (entry.isDirectory() && existsSync(from)) cpSync(from, join(out, top, entry.name, data), { recursive: true });
    }
  }
}
if (!process.argv.includes('--no-console')) {
  const { build } = await import('vite');
  await build({ configFile: join(root, 'apps/console/vite.config.mjs'), build: { outDir: join(out, 'apps/console'), emptyOutDir: true } });
  console.log(`built the console into ${join(out, 'apps/console')}`);
}
// The compiled tree is CommonJS whatever the root package.json says.
writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
const count = readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith('.js')).length;
console.log(`built ${count} files from ${sources.length} projects into ${out}`);
