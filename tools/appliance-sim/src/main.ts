import { parseArgs } from 'node:util';
import { ApplianceClient } from './appliance-client';
import { runApplianceFlow } from './flow';
import { seedDemo } from './seed';

/**
 * The appliance simulator against a running OpenECM (e.g. `docker compose up`):
 *   node -r @swc-node/register tools/appliance-sim/src/main.ts --gateway http://127.0.0.1:8080 \
 *     --client-id demo-appliance --client-secret ... [--seed --password-safe-url http://password-safe-sim:8090/...]
 */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  const env = process.env;
  const { values } = parseArgs({
    args: argv,
    options: {
      gateway: { type: 'string', default: env['OPENECM_GATEWAY_URL'] ?? 'http://127.0.0.1:8080' },
      'client-id': { type: 'string', default: env['OPENECM_CLIENT_ID'] ?? 'demo-appliance' },
      'client-secret': { type: 'string', default: env['OPENECM_CLIENT_SECRET'] },
      user: { type: 'string', default: 'alice' },
      endpoint: { type: 'string', default: 'srv-app01' },
      credential: { type: 'string', default: 'Administrator' },
      seed: { type: 'boolean', default: false },
      'password-safe-url': { type: 'string', default: env['PASSWORD_SAFE_URL'] ?? 'http://127.0.0.1:8090/BeyondTrust/api/public/v3/' },
      'sim-control-url': { type: 'string', default: env['PASSWORD_SAFE_SIM_CONTROL_URL'] },
      'secret-server-url': { type: 'string', default: env['SECRET_SERVER_URL'] },
      'sim-account-id': { type: 'string', default: '1001' },
    },
  });
  if (!values['client-secret']) throw new Error('--client-secret (or OPENECM_CLIENT_SECRET) is required');
  const client = new ApplianceClient(values.gateway, values['client-id'], values['client-secret']);
  if (values.seed) {
    await seedDemo(client, {
      vaultName: 'password-safe',
      passwordSafeUrl: values['password-safe-url'],
      apiKey: 'demo-api-key',
      ...(values['secret-server-url'] ? { secretServerUrl: values['secret-server-url'] } : {}),
      users: [values.user],
    });
  }
  await runApplianceFlow(client, {
    user: values.user,
    endpoint: values.endpoint,
    credential: values.credential,
    simControlUrl: values['sim-control-url'] ?? new URL('/_sim', values['password-safe-url']).toString(),
    simAccountId: Number(values['sim-account-id']),
  });
}

if (require.main === module) {
  main().catch((error: Error) => {
    process.stderr.write(`appliance-sim: ${error.message}\n`);
    process.exit(1);
  });
}
