/**
 * `npm start`: the five services from dist/, configured by `.env` (or the file named by OPENECM_ENV_FILE)
 * and the environment, which wins over the file. See the README's configuration table.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '@openecm/config';
import { Launcher, configurationProblems, launcherConfig, plan } from './launcher';

const say = (line: string) => process.stderr.write(`openecm: ${line}\n`);

async function main(): Promise<number> {
  const envFile = resolve(process.env['OPENECM_ENV_FILE'] ?? '.env');
  if (existsSync(envFile)) {
    process.loadEnvFile(envFile);
    say(`settings from ${envFile} and the environment`);
  } else if (process.env['OPENECM_ENV_FILE']) {
    say(`OPENECM_ENV_FILE names ${envFile}, which does not exist`);
    return 2;
  } else {
    say(`no ${envFile}: settings from the environment only (see .env.example)`);
  }
  const problems = configurationProblems(process.env);
  if (problems.length > 0) {
    say('not starting: the configuration is incomplete or malformed');
    for (const problem of problems) say(`  ${problem}`);
    return 2;
  }
  // dist/tools/launcher/src/main.js -> dist/
  const services = plan(resolve(__dirname, '../../..'), process.env);
  const missing = Launcher.missingBuild(services);
  if (missing.length > 0) {
    say(`not starting: ${missing.join(', ')} missing; run \`npm run build\` first`);
    return 2;
  }
  const launcher = new Launcher(services, say, loadConfig(launcherConfig).START_READY_TIMEOUT_MS, process.env);
  let stopping: Promise<boolean> | undefined;
  const stop = () => (stopping ??= launcher.stop());
  const done = new Promise<number>((resolveExit) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        say(`${signal}: stopping`);
        void stop().then((clean) => resolveExit(clean ? 0 : 1));
      });
    }
  });
  try {
    await launcher.start();
    const gateway = services.find((s) => s.name === 'appliance-gateway');
    say(`OpenECM is up: ${gateway?.readyUrl.replace(/\/health\/ready$/, '')}`);
  } catch (error) {
    say(`not started: ${(error as Error).message}`);
    await stop();
    return 1;
  }
  return done;
}

void main().then((code) => process.exit(code));
