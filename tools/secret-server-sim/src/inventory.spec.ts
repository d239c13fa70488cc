import { postControl, simHarness } from '@openecm/sim-kit/testing';
import { SimState, createSecretServerSim, generateSeed } from './sim';

const { start, closeAll } = simHarness(createSecretServerSim);

afterEach(closeAll);

interface RestSummary {
  id: number;
  name: string;
  secretTemplateName: string;
  extendedFields: { name: string; value: string }[] | null;
}

async function restToken(base: string, username: string, password: string, domain = ''): Promise<string> {
  const res = await fetch(`${base}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password, ...(domain ? { domain } : {}) }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function searchMachines(base: string, token: string, text: string, take = 500): Promise<RestSummary[]> {
  const query = new URLSearchParams({
    'filter.searchText': text,
    'filter.searchField': 'Machine',
    'filter.isExactMatch': 'false',
    'filter.extendedFields': 'Machine',
    'filter.includeRestricted': 'true',
    take: String(take),
  });
  const res = await fetch(`${base}/api/v1/secrets?${query.toString()}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { records: RestSummary[] }).records;
}

describe('generated Secret Server inventories', () => {
  it('is the same for the same numbers, holds the demo seed, and approves every generated user for the API account', () => {
    const seed = generateSeed({ secrets: 300, users: 40, seed: 3 });
    expect(generateSeed({ secrets: 300, users: 40, seed: 3 })).toEqual(seed);
    expect(seed.secrets).toHaveLength(300 + 8);
    expect(seed.templates?.map((t) => t.name)).toEqual(
      expect.arrayContaining(['Windows Account', 'Unix Account (SSH)', 'Unix Account (SSH Key Rotation)', 'Web Password', 'SQL Server Account']),
    );
    const generated = (seed.trust ?? []).filter((t) => /user\d{4}$/.test(t.user));
    expect(generated).toHaveLength(40);
    expect(generated.every((t) => t.apiUser === 'openecm-api' && t.state === 'approved')).toBe(true);
    const templates = new Set((seed.secrets ?? []).slice(8).map((s) => s.template));
    expect(templates.size).toBe(5);
    const machines = (seed.secrets ?? []).slice(8).filter((s) => s.fields?.['machine']).map((s) => s.fields?.['machine'] ?? '');
    expect(new Set(machines).size).toBeLessThan(machines.length);
    expect(machines.some((m) => /^\d+\.\d+\.\d+\.\d+$/.test(m)) && machines.some((m) => m.endsWith('.corp.example'))).toBe(true);
  });

  it("lets a user see only the team folder's secrets, and searches Machine fields by part of their value", async () => {
    const seed = generateSeed({ secrets: 400, users: 40 });
    const { base } = await start({ seed });
    const api = await restToken(base, 'openecm-api', 'openecm-api-demo-pass');
    const found = await searchMachines(base, api, 'FRA-');
    expect(found.length).toBeGreaterThan(10);
    for (const record of found) {
      expect(record.extendedFields?.find((f) => f.name === 'Machine')?.value.toLowerCase()).toContain('fra-');
      expect(['Windows Account', 'Unix Account (SSH)', 'Unix Account (SSH Key Rotation)']).toContain(record.secretTemplateName);
    }
    const user = await restToken(base, 'user0001', 'user0001-generated-pass', 'CORP');
    const mine = await searchMachines(base, user, '-');
    const teamFolder = seed.folders?.find((f) => f.name === 'team-001')?.id;
    const byId = new Map((seed.secrets ?? []).map((s) => [s.id, s]));
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((r) => byId.get(r.id)?.folderId === teamFolder)).toBe(true);
  });

  it('is loaded by POST /_sim/generate, and a bad request changes nothing', async () => {
    const { sim, origin } = await start();
    expect((await postControl(origin, 'generate', { secrets: -1 })).status).toBe(400);
    expect(sim.state.secretControlView(100_001)).toBeUndefined();
    const res = await postControl(origin, 'generate', { secrets: 50, users: 5 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ secrets: 58 });
    expect(sim.state.secretControlView(100_050)).toMatchObject({ id: 100_050 });
  });

  it('holds 100 000 secrets and searches them quickly', () => {
    const state = new SimState(generateSeed({ secrets: 100_000 }), 60_000);
    const login = state.login({ username: 'user0007', password: 'user0007-generated-pass', domain: 'CORP', organization: '' }, 'rest');
    const startedAt = Date.now();
    const found = state.search(state.session(login.token), { text: 'ams-', field: (f) => f.slug === 'machine', exact: false, includeInactive: false, includeRestricted: true });
    expect(found.length).toBeGreaterThan(100);
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });
});
