/**
 * `npm run bench -- --jump-items` (and the end of `npm run bench`): external jump item searches through the whole
 * chain (gateway → policy-approval → vault-adapters → Password Safe simulator, Redis, Postgres) over a generated
 * inventory of 100 000 managed systems and 1 000 users, each user signed in at the vault beforehand (a warm vault
 * session). Three figures: a repeated search (its answer held in Redis), a user's first search (nothing held for
 * the user: Password Safe lists the user's requestable accounts), and a new search of a user searched before (the
 * requestable systems held in process, the answer not). Writes docs/bench/jump-items.md.
 */
import { ApplianceClient } from '@openecm/appliance-sim';
import { clearNamespaceKeys, createTestDatabase, deleteNamespaceStreams } from '@openecm/testing';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { constantRate, type Summary } from './stats';
import { launchBenchSystem } from './bench-system';

const SYSTEMS = Number(process.env['BENCH_JUMP_SYSTEMS'] ?? 100_000);
const USERS = Number(process.env['BENCH_JUMP_USERS'] ?? 1000);
const RATE = Number(process.env['BENCH_JUMP_RATE'] ?? 20);
const SECONDS = Number(process.env['BENCH_STEP_SECONDS'] ?? 5);
/** Long enough for the three runs, short enough to wait out once after the warm-up. */
const CACHE_SECONDS = Math.max(20, SECONDS * 3 + 5);
const TARGET_P95_MS = 50;
const SITES = ['ams', 'fra', 'nyc', 'sgp', 'lon'];
const ROLES = ['app', 'web', 'db', 'file', 'k8s'];

const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');
const user = (i: number) => `user${String((i % USERS) + 1).padStart(4, '0')}`;

export async function runJumpItemsBench(): Promise<void> {
  const namespace = `benchji${randomBytes(3).toString('hex')}`;
  const db = await createTestDatabase();
  process.env['OPENECM_NAMESPACE'] = namespace;
  const system = await launchBenchSystem(namespace, db.url, {
    env: { PS_SIM_GENERATE: String(SYSTEMS), PS_SIM_GENERATE_USERS: String(USERS), JUMP_ITEMS_CACHE_SECONDS: String(CACHE_SECONDS) },
  });
  const figures: Record<string, Summary> = {};
  let inventoryMs = Number.NaN;
  let lastFailure = '';
  try {
    const api = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret);
    const put = await api.call('PUT', '/api/v1/admin/vaults/password-safe', { type: 'password-safe', settings: { baseUrl: system.simUrl, allowInsecureHttp: true, auth: { mode: 'api-key', apiKey: 'demo-api-key' } } });
    if (put.status !== 201) throw new Error(`connecting the vault answered ${put.status}`);
    await api.call('PUT', '/api/v1/admin/jump-items', { enabled: true, jumpointId: 'bench-jumpoint' });
    for (let i = 0; i < USERS; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, USERS - i) }, (_, k) => api.call('POST', '/api/v1/admin/groups/Secure%20Remote%20Access%20Requesters/members', { user: user(i + k) })));
    }
    const search = async (who: string, term: string) => {
      const res = await api.call<{ items: unknown[]; pending: Array<{ reason: string }> }>('GET', `/api/v1/jump-items?${new URLSearchParams({ user: who, search: term, limit: '50' })}`);
      if (res.status === 200 && res.body.pending.length === 0) return true;
      lastFailure = res.status === 200 ? (res.body.pending[0]?.reason ?? '') : `HTTP ${res.status}`;
      return false;
    };
    // the inventory is loaded once per vault-adapters instance, by the first search
    // (a search that waits longer than its budget answers the vault as pending while the load goes on)
    const startedAt = performance.now();
    for (let tries = 0; !(await search(user(0), `srv-app${tries}`)); tries++) {
      if (tries > 30) throw new Error(`no search answered without pending: ${lastFailure}`);
    }
    inventoryMs = performance.now() - startedAt;
    // every user signed in at Password Safe by a search of its own, then what that search kept for the user is
    // left to expire: the vault session stays (VAULT_SESSION_TTL_SECONDS), the user's requestable systems go
    for (let i = 0; i < USERS; i += 20) {
      await Promise.all(Array.from({ length: Math.min(20, USERS - i) }, (_, k) => search(user(i + k), 'zz-warm-up')));
    }
    await new Promise((r) => setTimeout(r, (CACHE_SECONDS + 1) * 1000));

    const pair = (i: number) => ({ who: user(i), term: `${SITES[i % SITES.length]}-` });
    let first = 0;
    figures['first search of a user'] = await constantRate(RATE, SECONDS, () => {
      const { who, term } = pair(first++);
      return search(who, term);
    });
    let repeat = 0;
    figures['repeated search (answer held)'] = await constantRate(RATE * 2, SECONDS, () => {
      const { who, term } = pair(repeat++ % first);
      return search(who, term);
    });
    let fresh = 0;
    figures['new search of a user searched before'] = await constantRate(RATE, SECONDS, () => {
      const i = fresh++;
      return search(user(i % first), `${SITES[i % SITES.length]}-${ROLES[Math.floor(i / SITES.length) % ROLES.length]}`);
    });
  } finally {
    await system.stop();
    await db.drop();
    await clearNamespaceKeys(namespace);
    await deleteNamespaceStreams(namespace);
  }
  report(figures, inventoryMs, lastFailure);
}

function report(figures: Record<string, Summary>, inventoryMs: number, lastFailure: string): void {
  const cpu = cpus();
  const machine = `${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()} ${release()}, Node ${process.version}`;
  const rows = Object.entries(figures).map(
    ([name, s]) => `| ${name} | ${s.count} | ${fmt(s.p50)} | ${fmt(s.p95)} | ${fmt(s.p99)} | ${fmt(s.max)} | ${s.errors} |`,
  );
  const held = figures['repeated search (answer held)'];
  const text = [
    '# Benchmark: external jump item search',
    '',
    `Run ${new Date().toISOString()} on ${machine}.`,
    `Password Safe simulator with ${SYSTEMS.toLocaleString('en')} generated managed systems and ${USERS.toLocaleString('en')} users (teams of 20,`,
    `about ${Math.round(SYSTEMS / Math.ceil(USERS / 20)).toLocaleString('en')} systems each), one instance of each service, NATS, Redis and PostgreSQL on this machine;`,
    `every user signed in at the vault before (a warm vault session, answers and requestable systems let expire). Open loop at ${RATE}/s (${RATE * 2}/s for repeated searches), ${SECONDS} s each, page of 50.`,
    '',
    held ? `Repeated search p95: **${fmt(held.p95)} ms** (target ${TARGET_P95_MS} ms).` : '',
    `The first search after start loaded the inventory (${SYSTEMS.toLocaleString('en')} systems, platforms, workgroups) in ${fmt(inventoryMs)} ms.`,
    '',
    ...(lastFailure ? [`Last failure seen: ${lastFailure}`, ''] : []),
    '| search | calls | p50 ms | p95 ms | p99 ms | max ms | errors |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
  process.stdout.write(`\n${text}\n`);
  mkdirSync('docs/bench', { recursive: true });
  writeFileSync('docs/bench/jump-items.md', text);
}

