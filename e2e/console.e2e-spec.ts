import { ApplianceClient, runApplianceFlow, seedDemo } from '@openecm/appliance-sim';
import type { ConsoleSession, ProblemDetails, SessionDetail, SessionPage } from '@openecm/contracts';
import {
  NATS_URL,
  OtlpCollector,
  REDIS_URL,
  applianceSessions,
  clearNamespaceKeys,
  createTestDatabase,
  deleteNamespaceStreams,
  freePort,
  launchBrowser,
  launchSystem,
  postSessionEvents,
  signInToConsole,
  waitFor,
  type RunningSystem,
  type TestBrowser,
} from '@openecm/testing';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEV_PEOPLE } from '../tools/dev-idp/src/people';

/**
 * The web console in a real browser (Debian's Chromium through playwright-core) against the whole system: people
 * sign in through the development identity provider, the gateway keeps their session, and the console reads the
 * reports through the gateway's API only.
 */
const namespace = process.env['OPENECM_NAMESPACE'] as string;
const root = resolve(__dirname, '..');
const person = (username: string) => DEV_PEOPLE.find((p) => p.username === username) as (typeof DEV_PEOPLE)[number];

describe('the web console', () => {
  let system: RunningSystem;
  let db: { url: string; drop: () => Promise<void> };
  let browser: TestBrowser;
  let admin: ApplianceClient;
  let token: string;
  let consoleDir: string;
  let brokerSession: string;
  let collector: OtlpCollector;
  const fixtures = applianceSessions({ prefix: `console-${namespace}`, count: 60, users: ['bob', 'carol', 'dave'] });

  beforeAll(async () => {
    // the console is built for this run, as `npm run build` builds it
    consoleDir = mkdtempSync(join(tmpdir(), 'openecm-console-'));
    const built = spawnSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'apps/console/vite.config.mjs', '--outDir', consoleDir], {
      cwd: root,
      encoding: 'utf8',
    });
    if (built.status !== 0) throw new Error(`the console did not build:\n${built.stdout}\n${built.stderr}`);
    db = await createTestDatabase();
    collector = new OtlpCollector();
    const otlpEndpoint = await collector.start(await freePort());
    system = await launchSystem({ namespace, databaseUrl: db.url, redisUrl: REDIS_URL, natsUrl: NATS_URL, otlpEndpoint, devIdp: true, consoleDir });
    admin = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret);
    token = (await admin.authenticate()).body.access_token;
    // the broker's own events: a list, an injection, a release and a rotation, each with its trace
    await seedDemo(admin, { vaultName: 'password-safe', passwordSafeUrl: system.simUrl, apiKey: 'demo-api-key', users: ['alice'], print: () => undefined });
    brokerSession = `console-flow-${namespace}`;
    const flow = await runApplianceFlow(admin, {
      user: 'alice',
      endpoint: 'srv-app01',
      credential: 'Administrator',
      simControlUrl: system.simControlUrl,
      simAccountId: 1001,
      sessionId: brokerSession,
      print: () => undefined,
    });
    expect(flow.rotated).toBe(true);
    // the appliance's own sessions, through its API
    const ingested = await postSessionEvents(system.gatewayUrl, token, fixtures.events);
    expect(ingested.rejected).toEqual([]);
    await waitFor(
      async () => {
        const page = await api<SessionPage>(`/api/v1/reports/sessions?lsid.prefix=console-&limit=100`);
        const rotated = await api<SessionPage>(`/api/v1/reports/sessions?lsid=${brokerSession}`);
        const events = rotated.items[0] ? await api<SessionDetail>(`/api/v1/reports/sessions/${rotated.items[0].id}`) : undefined;
        return page.items.length === fixtures.sessions.length + 1 && (events?.events.length ?? 0) >= 4;
      },
      { timeoutMs: 20_000, what: 'the sessions in the reports' },
    );
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
    await collector?.stop();
    await db?.drop();
    await clearNamespaceKeys();
    await deleteNamespaceStreams();
    if (consoleDir) rmSync(consoleDir, { recursive: true, force: true });
  });

  async function api<T>(path: string, accept = 'application/json'): Promise<T> {
    const res = await fetch(`${system.gatewayUrl}${path}`, { headers: { Authorization: `Bearer ${token}`, Accept: accept } });
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    return (accept === 'text/csv' ? await res.text() : await res.json()) as T;
  }

  const page = () => browser.page;
  const sessionCookie = async () => (await browser.context.cookies(system.gatewayUrl)).find((c) => c.name === '__Host-openecm-console');
  const signOutEverywhere = () => browser.context.clearCookies();

  it('serves the console with a strict Content-Security-Policy', async () => {
    const res = await fetch(`${system.gatewayUrl}/console`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await res.text();
    expect(html).toContain('<div id="root">');
    // the page's script, compressed on the way and cached for a year under its hashed name
    const script = /src="\/console\/assets\/([^"]+\.js)"/.exec(html)?.[1] as string;
    const asset = await fetch(`${system.gatewayUrl}/console/assets/${script}`);
    expect(asset.headers.get('content-encoding')).toBe('gzip');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await asset.text()).toBe(readFileSync(join(consoleDir, 'assets', script), 'utf8'));
    const unknown = await fetch(`${system.gatewayUrl}/console/assets/nothing-here.js`);
    expect(unknown.status).toBe(404);
  });

  it('signs a viewer in, shows the cards and the chart, and opens the grid a card counts', async () => {
    const vera = person('vera');
    await signInToConsole(page(), system.gatewayUrl, vera.username, vera.password);
    await page().getByTestId('person').getByText(vera.name).waitFor();
    const cookie = await sessionCookie();
    // Secure as in production: browsers keep Secure cookies on http://127.0.0.1
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    // the summary the dashboard shows is the API's
    const sessionsCard = page().getByTestId('card-sessions');
    await sessionsCard.locator('.card-value').waitFor();
    const summary = await api<{ cards: { sessions: number } }>(`/api/v1/reports/summary`);
    expect(Number((await sessionsCard.locator('.card-value').innerText()).replace(/\D/g, ''))).toBe(summary.cards.sessions);
    expect(summary.cards.sessions).toBeGreaterThanOrEqual(fixtures.sessions.length + 1);
    await page().getByTestId('series-chart').locator('canvas').waitFor();

    await sessionsCard.click();
    await page().waitForURL(/\/console\/sessions\?/);
    const grid = page().getByTestId('grid-sessions');
    await grid.locator('.ag-row').first().waitFor();
    expect(await page().getByTestId('api-query').innerText()).toContain('startTime.from=');
  });

  it('pages the grid with the cursors the API answers', async () => {
    const grid = page().getByTestId('grid-sessions');
    const query = (await page().getByTestId('api-query').innerText()).replace(/^GET \/api\/v1\/reports\/sessions\?/, '');
    const first = await api<SessionPage>(`/api/v1/reports/sessions?${query}&limit=50`);
    const second = await api<SessionPage>(`/api/v1/reports/sessions?${query}&limit=50&cursor=${first.nextCursor ?? ''}`);
    expect(second.items.length).toBeGreaterThan(0);
    await page().getByRole('button', { name: 'Next Page' }).click();
    const shown = await waitFor(
      async () => {
        const rows = await grid.locator('.ag-row').evaluateAll((trs) =>
          trs.map((r) => ({ index: Number(r.getAttribute('row-index')), lsid: r.querySelector('[col-id="lsid"]')?.textContent ?? '' })),
        );
        const page2 = rows.filter((r) => r.index >= 50).sort((a, b) => a.index - b.index);
        return page2.length === second.items.length ? page2.map((r) => r.lsid) : undefined;
      },
      { what: 'the second page' },
    );
    expect(shown).toEqual(second.items.map((s) => s.lsid));
    await page().getByRole('button', { name: 'First Page' }).click();
  });

  it('filters and sorts the grid, and exports exactly what the API answers as CSV', async () => {
    const grid = page().getByTestId('grid-sessions');
    await page().getByLabel('user Filter Input').fill('bob');
    await waitFor(async () => (await page().getByTestId('api-query').innerText()).includes('user=bob'), { what: 'the user filter in the query' });
    // the card opened the grid newest first; a click on the header turns the order around
    await grid.locator('.ag-header-cell[col-id="startTime"] .ag-header-cell-label').click();
    await waitFor(
      async () => {
        if (/sort=startTime(&|$)/.test(await page().getByTestId('api-query').innerText())) return true;
        await grid.locator('.ag-header-cell[col-id="startTime"] .ag-header-cell-label').click();
        return false;
      },
      { what: 'the ascending sort in the query', intervalMs: 300 },
    );
    const bobs = fixtures.sessions.filter((s) => s.user === 'bob');
    let seen: string[] = [];
    const users = await waitFor(
      async () => {
        seen = await grid.locator('.ag-row .ag-cell[col-id="user"]').allInnerTexts();
        return seen.length === bobs.length ? seen : undefined;
      },
      { what: "bob's sessions in the grid" },
    ).catch(async (error: Error) => {
      const q = (await page().getByTestId('api-query').innerText()).replace(/^GET /, '');
      const answer = await api<SessionPage>(q).catch((e: Error) => e.message);
      throw new Error(`${error.message}: the grid shows ${JSON.stringify(seen)} for ${q}; the API answers ${JSON.stringify(answer).slice(0, 600)}`);
    });
    expect(new Set(users)).toEqual(new Set(['bob']));
    const lsids = await grid.locator('.ag-row .ag-cell[col-id="lsid"]').allInnerTexts();
    const query = (await page().getByTestId('api-query').innerText()).replace(/^GET \/api\/v1\/reports\/sessions\?/, '');
    expect(query).toMatch(/sort=startTime(&|$)/);
    const expected = [...bobs].sort((a, b) => a.start.getTime() - b.start.getTime()).map((s) => s.lsid);
    // the grid shows its rows by position; its DOM order is not the display order
    const indexed = await grid.locator('.ag-row').evaluateAll((rows) =>
      rows.map((r) => ({ index: Number(r.getAttribute('row-index')), lsid: r.querySelector('[col-id="lsid"]')?.textContent ?? '' })),
    );
    expect(indexed.sort((a, b) => a.index - b.index).map((r) => r.lsid)).toEqual(expected);
    expect(lsids.length).toBe(bobs.length);

    const [download] = await Promise.all([page().waitForEvent('download'), page().getByTestId('export-csv').click()]);
    const file = readFileSync(await download.path(), 'utf8');
    const fromApi = await api<string>(`/api/v1/reports/sessions?${query}`, 'text/csv');
    expect(file).toBe(fromApi);
    expect(file.split('\n').filter((l) => l.trim() !== '').length).toBe(bobs.length + 1);
  });

  it("opens the event grid of a card over the range chosen on the dashboard", async () => {
    await page().getByRole('link', { name: 'Dashboard' }).click();
    await page().getByTestId('range').selectOption('24h');
    const card = page().getByTestId('card-injections');
    const count = Number(await waitFor(async () => (await card.locator('.card-value').innerText()).replace(/\D/g, '') || undefined, { what: 'the injections card' }));
    expect(count).toBeGreaterThanOrEqual(1);
    await card.click();
    await page().waitForURL(/\/console\/events\?/);
    const grid = page().getByTestId('grid-events');
    const types = await waitFor(
      async () => {
        const cells = await grid.locator('.ag-row .ag-cell[col-id="type"]').allInnerTexts();
        return cells.length === count && cells.every((c) => c !== '') ? cells : undefined;
      },
      { what: 'the injections in the event grid' },
    );
    expect(new Set(types)).toEqual(new Set(['Credentials Used']));
    const query = new URLSearchParams((await page().getByTestId('api-query').innerText()).replace(/^GET \/api\/v1\/reports\/events\?/, ''));
    expect(query.get('type')).toBe('Credentials Used');
    expect(Date.parse(query.get('timestamp.to') ?? '') - Date.parse(query.get('timestamp.from') ?? '')).toBe(24 * 3_600_000);
  });

  it("opens a session and shows its events in order, each broker event with its trace id", async () => {
    const found = await api<SessionPage>(`/api/v1/reports/sessions?lsid=${brokerSession}`);
    const id = found.items[0]?.id as string;
    await page().goto(`${system.gatewayUrl}/console/sessions/${id}`);
    const rows = page().getByTestId('session-events').locator('tbody tr');
    await rows.first().waitFor();
    const detail = await api<SessionDetail>(`/api/v1/reports/sessions/${id}`);
    expect(await rows.count()).toBe(detail.events.length);
    const shown = await rows.evaluateAll((trs) => trs.map((tr) => ({ id: tr.getAttribute('data-event-id'), source: tr.getAttribute('data-source'), trace: tr.querySelector('.trace')?.textContent ?? '' })));
    expect(shown.map((r) => r.id)).toEqual(detail.events.map((e) => e.id));
    const times = detail.events.map((e) => Date.parse(e.timestamp));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const broker = shown.filter((r) => r.source === 'broker');
    expect(broker.length).toBeGreaterThanOrEqual(3);
    for (const row of broker) expect(row.trace).toMatch(/^[0-9a-f]{32}$/);
  });

  it('lets a session change something only with its CSRF token, and signs out at the gateway and the identity provider', async () => {
    const cookie = await sessionCookie();
    const header = { Cookie: `__Host-openecm-console=${cookie?.value ?? ''}` };
    const session = (await (await fetch(`${system.gatewayUrl}/console/auth/session`, { headers: header })).json()) as ConsoleSession;
    expect(session).toMatchObject({ signedIn: true, person: { name: person('vera').name, roles: ['viewer'], permissions: ['reporting'] } });
    const forged = await fetch(`${system.gatewayUrl}/console/auth/logout`, { method: 'POST', headers: header });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as ProblemDetails).code).toBe('CSRF_TOKEN_INVALID');
    // a viewer is not an admin
    const adminCall = await fetch(`${system.gatewayUrl}/api/v1/admin/vaults`, { headers: header });
    expect(adminCall.status).toBe(403);

    await page().goto(`${system.gatewayUrl}/console`);
    await page().getByRole('button', { name: 'Sign out' }).click();
    await page().waitForURL((url) => url.origin === system.devIdpUrl);
    expect(await sessionCookie()).toBeUndefined();
    // the session is gone at the gateway, not only from the browser
    const after = (await (await fetch(`${system.gatewayUrl}/console/auth/session`, { headers: header })).json()) as ConsoleSession;
    expect(after).toMatchObject({ signedIn: false, person: null, csrfToken: null });
    const reports = await fetch(`${system.gatewayUrl}/api/v1/reports/summary`, { headers: header });
    expect(reports.status).toBe(401);
    // the identity provider asks, signs out there too and sends the browser back to the console
    await page().locator('button[name="logout"][value="yes"]').click();
    await page().waitForURL((url) => url.origin === system.gatewayUrl && url.pathname.startsWith('/console'));
    await page().getByRole('button', { name: 'Sign in' }).waitFor();
    // no cookie is cleared here: the next sign-in shows the login form only if the identity provider ended its session
  });

  it('admits an admin to the admin API with the CSRF token, and refuses a person without the viewer role', async () => {
    const ada = person('ada');
    await signInToConsole(page(), system.gatewayUrl, ada.username, ada.password);
    await page().getByTestId('card-sessions').waitFor();
    const changed = await page().evaluate(async () => {
      const session = (await (await fetch('/console/auth/session')).json()) as { csrfToken: string };
      const send = (csrf?: string) =>
        fetch('/api/v1/admin/jump-items', {
          method: 'PUT',
          headers: { 'Content-Type': 'application/json', ...(csrf ? { 'x-openecm-csrf': csrf } : {}) },
          body: JSON.stringify({ enabled: false, jumpointId: null, groupName: 'External Jump Items' }),
        });
      return { without: (await send()).status, with: (await send(session.csrfToken)).status };
    });
    expect(changed).toEqual({ without: 403, with: 200 });
    await signOutEverywhere();

    const abe = person('abe');
    await signInToConsole(page(), system.gatewayUrl, abe.username, abe.password);
    await page().getByTestId('no-viewer').waitFor();
    const refused = await page().evaluate(async () => {
      const res = await fetch('/api/v1/reports/summary');
      return { status: res.status, body: (await res.json()) as { code: string } };
    });
    expect(refused).toMatchObject({ status: 403, body: { code: 'PERMISSION_MISSING' } });
    await signOutEverywhere();

    const nora = person('nora');
    await signInToConsole(page(), system.gatewayUrl, nora.username, nora.password);
    await page().getByTestId('sign-in-failure').waitFor();
    expect(page().url()).toContain('signin=no-role');
    expect(await sessionCookie()).toBeUndefined();
    await signOutEverywhere();
  });

  it('lets an approver decide a pending request as themselves in the console, and the repeated injection checks out', async () => {
    const abe = person('abe');
    // the approver group names the person as the gateway sees them: the identity provider's name claim
    expect((await admin.call('PUT', '/api/v1/admin/groups/Change%20board', { policies: [] })).status).toBe(201);
    expect((await admin.call('POST', '/api/v1/admin/groups/Change%20board/members', { user: abe.name })).status).toBe(201);
    const policy = await admin.call('PUT', '/api/v1/admin/policies/Console%20contractors', {
      approval: { mode: 'manual', approverGroups: ['Change board'], required: 1, expiresAfterMinutes: 30 },
      requireReason: true,
    });
    expect(policy.status).toBe(201);
    expect((await admin.call('PUT', '/api/v1/admin/groups/Console%20contractors', { policies: ['Console contractors'] })).status).toBe(201);
    expect((await admin.call('POST', '/api/v1/admin/groups/Console%20contractors/members', { user: 'bob' })).status).toBe(201);
    const created = await admin.call<{ clientSecret: string }>('POST', '/api/v1/admin/api-accounts', { clientId: 'console-pra-site', permissions: ['credentials'] });
    expect(created.status).toBe(201);
    const appliance = new ApplianceClient(system.gatewayUrl, 'console-pra-site', created.body.clientSecret);
    const listed = await appliance.listCredentials('bob', 'srv-app01');
    const credential = (listed.body.credentials as Array<{ id: string; name: string; approval: string; policy: string }>).find((c) => c.name === 'srv-app01\\Administrator');
    expect(credential).toMatchObject({ approval: 'manual', policy: 'Console contractors' });
    const injection = { credentialId: credential?.id, user: 'bob', endpoint: 'srv-app01', sessionId: `console-approval-${namespace}`, reason: 'CHG-42 patch night' };
    const asked = await appliance.call<{ approvalId: string; status: string }>('POST', '/api/v1/injections', injection);
    expect(asked).toMatchObject({ status: 202, body: { status: 'pending', policy: 'Console contractors' } });
    const approvalId = asked.body.approvalId;

    await signInToConsole(page(), system.gatewayUrl, abe.username, abe.password);
    await page().getByTestId('no-viewer').waitFor();
    await page().getByTestId('nav-approvals').click();
    const grid = page().getByTestId('grid-approvals');
    const row = grid.locator(`.ag-row[row-id="${approvalId}"]`);
    await row.waitFor();
    expect(await page().getByTestId('api-query').innerText()).toBe(`GET /api/v1/approvals?status=pending&approver=${encodeURIComponent(abe.name).replace(/%20/g, '+')}&limit=200`);
    const cell = async (col: string) => (await row.locator(`[col-id="${col}"]`).innerText()).trim();
    expect({ user: await cell('user'), endpoint: await cell('endpoint'), credential: await cell('credential'), policy: await cell('policy'), reason: await cell('reason'), approvals: await cell('approvals') }).toEqual({
      user: 'bob',
      endpoint: 'srv-app01',
      credential: 'srv-app01\\Administrator',
      policy: 'Console contractors',
      reason: 'CHG-42 patch night',
      approvals: '0/1',
    });
    await row.locator('[col-id="user"]').click();
    const detail = page().getByTestId('approval-detail');
    await detail.waitFor();
    expect(await detail.getAttribute('data-approval-id')).toBe(approvalId);
    await page().getByTestId('decision-comment').fill('in the change window');
    if (process.env['WRITE_SCREENSHOTS'] === '1') {
      await page().setViewportSize({ width: 1440, height: 960 });
      await page().screenshot({ path: join(root, 'docs/console-approvals.png'), fullPage: true });
    }
    await page().getByTestId('approve').click();
    await page().getByTestId('decision-notice').getByText('it is approved').waitFor();
    // the list is read again: nothing waits for this approver any more
    await waitFor(async () => (await grid.locator('.ag-row').count()) === 0, { what: 'the decided request gone from the list' });
    expect(await detail.locator('[data-testid="approval-decisions"] tbody tr').allInnerTexts()).toEqual([expect.stringContaining('in the change window')]);

    const after = await appliance.call<{ status: string; decisions: Array<{ approver: string; decision: string; comment: string | null; group: string | null }> }>('GET', `/api/v1/approvals/${approvalId}`);
    expect(after).toMatchObject({ status: 200, body: { status: 'approved', decisions: [{ approver: abe.name, decision: 'approve', comment: 'in the change window', group: 'Change board' }] } });
    const injected = await appliance.call<{ leaseId: string }>('POST', '/api/v1/injections', injection);
    expect(injected).toMatchObject({ status: 201, body: { username: 'Administrator' } });
    await appliance.release(injected.body.leaseId);

    // the approved request is among the recent approved ones
    await page().getByTestId('tab-approved').click();
    await grid.locator(`.ag-row[row-id="${approvalId}"]`).waitFor();
    // a person decides only as themselves
    const again = await page().evaluate(async (id) => {
      const session = (await (await fetch('/console/auth/session')).json()) as { csrfToken: string };
      const res = await fetch(`/api/v1/approvals/${id}/decision`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'x-openecm-csrf': session.csrfToken },
        body: JSON.stringify({ approver: 'Somebody Else', decision: 'deny' }),
      });
      return { status: res.status, body: (await res.json()) as { code: string } };
    }, approvalId);
    expect(again).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    await signOutEverywhere();
  });

  it('shows the decision error the gateway answers to the approver', async () => {
    const abe = person('abe');
    const created = await admin.call<{ clientSecret: string }>('POST', '/api/v1/admin/api-accounts', { clientId: 'console-pra-site-2', permissions: ['credentials'] });
    const appliance = new ApplianceClient(system.gatewayUrl, 'console-pra-site-2', created.body.clientSecret);
    const credential = ((await appliance.listCredentials('bob', 'srv-app01')).body.credentials as Array<{ id: string; name: string }>).find((c) => c.name === 'srv-app01\\Administrator');
    const injection = { credentialId: credential?.id, user: 'bob', endpoint: 'srv-app01', sessionId: `console-denied-${namespace}`, reason: 'CHG-43' };
    const asked = await appliance.call<{ approvalId: string }>('POST', '/api/v1/injections', injection);
    expect(asked.status).toBe(202);
    await signInToConsole(page(), system.gatewayUrl, abe.username, abe.password);
    await page().getByTestId('nav-approvals').click();
    const row = page().getByTestId('grid-approvals').locator(`.ag-row[row-id="${asked.body.approvalId}"]`);
    await row.waitFor();
    await row.locator('[col-id="user"]').click();
    await page().getByTestId('approval-detail').waitFor();
    // meanwhile the request is revoked: the console says what the gateway answers
    expect((await admin.call('POST', `/api/v1/admin/approvals/${asked.body.approvalId}/revoke`, { reason: 'withdrawn' })).status).toBe(200);
    await page().getByTestId('deny').click();
    const error = await page().getByTestId('decision-error').innerText();
    expect(error.length).toBeGreaterThan(0);
    const problem = await page().evaluate(async (id) => {
      const session = (await (await fetch('/console/auth/session')).json()) as { csrfToken: string; person: { name: string } };
      const res = await fetch(`/api/v1/approvals/${id}/decision`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'x-openecm-csrf': session.csrfToken },
        body: JSON.stringify({ approver: session.person.name, decision: 'deny' }),
      });
      return (await res.json()) as { code: string; detail: string };
    }, asked.body.approvalId);
    expect(problem.code).toBe('APPROVAL_NOT_PENDING');
    expect(error).toContain(problem.detail);
    await signOutEverywhere();
  });

  it('shows a viewer no Approvals item, and the approvals page says it needs the approver role', async () => {
    const vera = person('vera');
    await signInToConsole(page(), system.gatewayUrl, vera.username, vera.password);
    await page().getByTestId('card-sessions').waitFor();
    expect(await page().getByTestId('nav-approvals').count()).toBe(0);
    await page().goto(`${system.gatewayUrl}/console/approvals`);
    await page().getByTestId('no-approver').waitFor();
    expect(await page().getByTestId('no-approver').innerText()).toContain('approver role');
    const refused = await page().evaluate(async (name) => {
      const res = await fetch(`/api/v1/approvals?status=pending&approver=${encodeURIComponent(name)}`);
      return { status: res.status, body: (await res.json()) as { code: string } };
    }, vera.name);
    expect(refused).toMatchObject({ status: 403, body: { code: 'PERMISSION_MISSING' } });
    await signOutEverywhere();
  });

  it('logs and traces no session id, code, token or client secret', async () => {
    const lines = system.processes.flatMap((p) => p.lines).join('\n');
    for (const secret of system.secrets) expect(lines).not.toContain(secret);
    expect(lines).not.toMatch(/openecm-console=|code_verifier|id_token|callback\?[^"\s]*code=/);
    // the callback's spans name the route with its code and state redacted
    const callbacks = await waitFor(
      () => {
        const found = collector.spans.filter((s) => s.service === 'appliance-gateway' && s.attributes['url.path'] === '/console/auth/callback');
        return found.length > 0 ? found : undefined;
      },
      { what: "the callback's spans" },
    );
    for (const span of callbacks) {
      expect(span.attributes['url.query']).toContain('code={redacted}');
      expect(JSON.stringify(span.attributes)).not.toMatch(/(code|state)=(?!\{redacted\})/);
    }
    const spans = JSON.stringify(collector.spans.map((s) => s.attributes));
    for (const secret of system.secrets) expect(spans).not.toContain(secret);
    expect(spans).not.toMatch(/openecm-console=/);
  });
});
