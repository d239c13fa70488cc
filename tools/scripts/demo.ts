/**
 * `npm run demo`: starts both vault simulators and every OpenECM app on this machine (NATS, Redis and
 * PostgreSQL on their default local ports), seeds a demo, and runs the appliance simulator through list,
 * inject, release and rotation. Keeps running until Ctrl-C unless started with `--exit`.
 * Set OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://127.0.0.1:4318 for a local Jaeger) to see the traces.
 */
import { ApplianceClient, runApplianceFlow, seedDemo } from '@openecm/appliance-sim';
import { launchSystem } from '@openecm/testing';

const env = process.env;
const exitAfterFlow = process.argv.includes('--exit');
const verbose = process.argv.includes('--verbose');
const out = (line: string) => process.stdout.write(`${line}\n`);

async function run(): Promise<void> {
  const bootstrap = { clientId: 'demo-appliance', clientSecret: env['OPENECM_DEMO_CLIENT_SECRET'] ?? 'demo-appliance-secret-change-me' };
  out('starting the Password Safe and Secret Server simulators and the five OpenECM apps ...');
  const system = await launchSystem({
    namespace: env['OPENECM_NAMESPACE'] ?? 'demo',
    databaseUrl: env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/openecm_demo',
    redisUrl: env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    natsUrl: env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
    otlpEndpoint: env['OTEL_EXPORTER_OTLP_ENDPOINT'],
    gatewayPort: Number(env['GATEWAY_PORT'] ?? 8080),
    simPort: Number(env['PS_SIM_PORT'] ?? 8090),
    secretServer: true,
    secretServerPort: Number(env['SS_SIM_PORT'] ?? 8091),
    logLevel: env['LOG_LEVEL'] ?? 'info',
    bootstrap,
    echo: verbose ? (name, line) => out(`[${name}] ${line}`) : undefined,
  });
  const shutdown = async () => {
    out('stopping ...');
    await system.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());

  out(`gateway ${system.gatewayUrl}, Password Safe simulator ${system.simUrl}, Secret Server simulator ${system.secretServerUrl}`);
  out(`API account: ${bootstrap.clientId} (its secret is in OPENECM_DEMO_CLIENT_SECRET or the README)`);
  const client = new ApplianceClient(system.gatewayUrl, bootstrap.clientId, bootstrap.clientSecret);
  await seedDemo(client, {
    vaultName: 'password-safe',
    passwordSafeUrl: system.simUrl,
    apiKey: 'demo-api-key',
    secretServerUrl: `${system.secretServerUrl}/webservices/SSWebService.asmx`,
    users: ['alice'],
    print: out,
  });
  const result = await runApplianceFlow(client, {
    user: 'alice',
    endpoint: 'srv-app01',
    credential: 'Administrator',
    simControlUrl: system.simControlUrl,
    simAccountId: 1001,
    print: out,
  });
  out(result.rotated ? 'done: the password was injected, released and rotated.' : 'done, but the lease did not rotate: see the lease state above.');
  if (exitAfterFlow) {
    await system.stop();
    process.exit(result.rotated ? 0 : 1);
  }
  out('OpenECM keeps running; press Ctrl-C to stop.');
}

run().catch((error: Error) => {
  process.stderr.write(`demo failed: ${error.message}\n`);
  process.exit(1);
});
