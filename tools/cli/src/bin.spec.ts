import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');

/** A checkout in miniature: the real shim, the workspace's node_modules and tsconfig, a stand-in CLI. */
function checkout(): string {
  const root = mkdtempSync(join(tmpdir(), 'openecm-bin-'));
  mkdirSync(join(root, 'tools/cli/bin'), { recursive: true });
  mkdirSync(join(root, 'tools/cli/src'), { recursive: true });
  copyFileSync(join(ROOT, 'tools/cli/bin/openecm.js'), join(root, 'tools/cli/bin/openecm.js'));
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  copyFileSync(join(ROOT, 'tsconfig.base.json'), join(root, 'tsconfig.base.json'));
  copyFileSync(join(ROOT, 'tsconfig.json'), join(root, 'tsconfig.json'));
  writeFileSync(join(root, 'tools/cli/src/main.ts'), "const from: string = 'typescript';\nprocess.stdout.write(`${from} ${process.argv.slice(2).join(' ')}`);\n");
  return root;
}

const runBin = (root: string) =>
  spawnSync(process.execPath, [join(root, 'tools/cli/bin/openecm.js'), 'doctor', '--json'], { cwd: tmpdir(), encoding: 'utf8', timeout: 20_000 });

describe('bin/openecm.js', () => {
  let root: string;
  beforeEach(() => (root = checkout()));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('runs the TypeScript in a checkout, from any folder', () => {
    const result = runBin(root);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('typescript doctor --json');
  });

  it('runs the compiled CLI once npm run build has put it in dist/', () => {
    mkdirSync(join(root, 'dist/tools/cli/src'), { recursive: true });
    writeFileSync(join(root, 'dist/tools/cli/src/main.js'), "process.stdout.write('compiled ' + process.argv.slice(2).join(' '));\n");
    const result = runBin(root);
    expect(result.stdout).toBe('compiled doctor --json');
  });
});
