/**
 * `npm run screenshots`: the console's pictures in docs/ (console-dashboard.png, console-grid.png), taken from a
 * running system with data in it. Starts the simulators, the development identity provider and the five apps on
 * the local NATS, Redis and PostgreSQL (the test defaults; a database and namespace of its own, removed after),
 * runs a few appliance flows and posts a week of appliance sessions, signs in as the demo admin in Debian's
 * Chromium and saves the dashboard and the session grid. The approvals page (docs/console-approvals.png) is taken
 * by the console's browser test, which sets up an approval request: `WRITE_SCREENSHOTS=1 npx jest
 * e2e/console.e2e-spec.ts --selectProjects e2e`.
 */
import { ApplianceClient, runApplianceFlow, seedDemo } from '@openecm/appliance-sim';
import type { SessionPage } from '@openecm/contracts';
import {
  NATS_URL,
  REDIS_URL,
  applianceSessions,
  clearNamespaceKeys,
  createTestDatabase,
  deleteNamespaceStreams,
  launchBrowser,
  launchSystem,
  postSessionEvents,
  signInToConsole,
  waitFor,
} from '@openecm/testing';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEV_PEOPLE } from '@openecm/dev-idp';

const root = resolve(__dirname, '..', '..');
const out = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const namespace = `shots${randomBytes(3).toString('hex')}`;
  process.env['OPENECM_NAMESPACE'] = namespace;
  const consoleDir = mkdtempSync(join(tmpdir(), 'openecm-console-'));
  const built = spawnSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'apps/console/vite.config.mjs', '--outDir', consoleDir], {
    cwd: root,
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`the console did not build:\n${built.stderr}`);
  const db = await createTestDatabase();
  const system = await launchSystem({ namespace, databaseUrl: db.url, redisUrl: REDIS_URL, natsUrl: NATS_URL, devIdp: true, consoleDir });
  const browser = await launchBrowser({ width: 1440, height: 960 });
  try {
    out(`system up: ${system.gatewayUrl}`);
    const admin = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret);
    const token = (await admin.authenticate()).body.access_token;
    // the simulator's seed knows alice: her sessions carry the broker's events (list, injection, release, rotation)
    await seedDemo(admin, { vaultName: 'password-safe', passwordSafeUrl: system.simUrl, apiKey: 'demo-api-key', users: ['alice'], print: () => undefined });
    const flows = 3;
    for (let i = 0; i < flows; i++) {
      await runApplianceFlow(admin, { user: 'alice', endpoint: 'srv-app01', credential: 'Administrator', sessionId: `shots-flow-${i}`, print: () => undefined });
    }
    const fixtures = applianceSessions({ prefix: 'pra', count: 140, users: ['bob', 'carol', 'dave', 'erin', 'frank'], days: 6 });
    await postSessionEvents(system.gatewayUrl, token, fixtures.events);
    await waitFor(
      async () => {
        const res = await fetch(`${system.gatewayUrl}/api/v1/reports/sessions?limit=1000`, { headers: { Authorization: `Bearer ${token}` } });
        return ((await res.json()) as SessionPage).items.length >= fixtures.sessions.length + flows;
      },
      { timeoutMs: 30_000, what: 'the sessions in the reports' },
    );
    const ada = DEV_PEOPLE.find((p) => p.username === 'ada') as (typeof DEV_PEOPLE)[number];
    const page = browser.page;
    await signInToConsole(page, system.gatewayUrl, ada.username, ada.password);
    await page.getByTestId('series-chart').locator('canvas').waitFor();
    await page.getByTestId('card-sessions').locator('.card-value').waitFor();
    await page.screenshot({ path: join(root, 'docs/console-dashboard.png'), fullPage: true });
    out('wrote docs/console-dashboard.png');
    await page.getByTestId('card-sessions').click();
    await page.getByTestId('grid-sessions').locator('.ag-row').nth(10).waitFor();
    await page.screenshot({ path: join(root, 'docs/console-grid.png') });
    out('wrote docs/console-grid.png');
  } finally {
    await browser.close();
    await system.stop();
    await db.drop();
    await clearNamespaceKeys(namespace);
    await deleteNamespaceStreams(namespace);
    rmSync(consoleDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`screenshots failed: ${error.message}\n`);
    process.exit(1);
  },
);
