/**
 * `npm run nats-config`: writes the nats-server accounts file (one user per service, each with the
 * permissions of its role) that docker-compose.yml and the Kubernetes demo run NATS with.
 *
 *   npm run nats-config                                  deploy/nats/openecm-accounts.conf, passwords
 *   npm run nats-config -- --auth nkey --namespace prod --out /etc/nats/openecm-accounts.conf
 *   npm run nats-config -- --check                       exits 1 when the file is not what the contracts make
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { namespaceConfig } from '@openecm/config';
import { DEFAULT_OUT, renderServerConfig, type AuthMode } from './server-config';

const ROOT = resolve(__dirname, '../../..');

function main(): number {
  const { values } = parseArgs({
    options: {
      namespace: { type: 'string' },
      auth: { type: 'string', default: 'password' },
      out: { type: 'string' },
      check: { type: 'boolean', default: false },
    },
  });
  const auth = values.auth as AuthMode;
  if (auth !== 'password' && auth !== 'nkey') throw new Error(`--auth is password or nkey, not ${values.auth}`);
  const namespace = values.namespace === undefined ? undefined : namespaceConfig.schema.shape.OPENECM_NAMESPACE.parse(values.namespace);
  const text = renderServerConfig({ auth, ...(namespace ? { namespace } : {}) });
  const out = values.out === undefined ? resolve(ROOT, DEFAULT_OUT) : resolve(values.out);
  const name = values.out ?? DEFAULT_OUT;
  if (values.check) {
    let current = '';
    try {
      current = readFileSync(out, 'utf8');
    } catch {
      current = '';
    }
    if (current === text) return 0;
    process.stderr.write(`${name} is not what the bus roles make: run npm run nats-config\n`);
    return 1;
  }
  writeFileSync(out, text);
  process.stdout.write(`wrote ${name}\n`);
  return 0;
}

try {
  process.exitCode = main();
} catch (error) {
  process.stderr.write(`nats-config: ${(error as Error).message}\n`);
  process.exitCode = 2;
}
