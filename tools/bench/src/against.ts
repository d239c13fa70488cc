/**
 * `npm run bench -- --against <checkout>`: this checkout against another (an earlier commit, in a worktree with
 * its own node_modules), measured in the same run. This machine's speed drifts from minute to minute, so two
 * reports taken one after the other can differ by more than a change does; here both systems are up side by side
 * and their closed-loop runs alternate, round after round, with tracing off and then as each release ships it.
 * Writes docs/bench/against.md.
 */
import { ApplianceClient, seedDemo } from '@openecm/appliance-sim';
import { OtlpCollector, clearNamespaceKeys, createTestDatabase, deleteNamespaceStreams, freePort, type RunningSystem } from '@openecm/testing';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { launchBenchSystem } from './bench-system';
import { OPENECM, charged, processGroups, type CpuPerCall, type ProcessGroups } from './cpu';
import { closedLoop, constantRate } from './stats';

const ROUNDS = Number(process.env['BENCH_AGAINST_ROUNDS'] ?? 4);
const SECONDS = Number(process.env['BENCH_STEP_SECONDS'] ?? 5);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
const WARM_UP_SECONDS = Number(process.env['BENCH_WARM_UP_SECONDS'] ?? 10);
/** `off`, `shipped` or both (the default): which tracing the two sides run with. */
const TRACINGS = (['off', 'shipped'] as const).filter((t) => (process.env['BENCH_AGAINST_TRACING'] ?? t) === t);

interface Side {
  label: string;
  groups: ProcessGroups;
  list: () => Promise<boolean>;
  inject: () => Promise<boolean>;
  stop(): Promise<void>;
}

async function side(label: string, root: string | undefined, tracing: 'off' | 'shipped', otlp: string): Promise<Side> {
  const namespace = `benchab${randomBytes(3).toString('hex')}`;
  const db = await createTestDatabase();
  const system: RunningSystem = await launchBenchSystem(namespace, db.url, {
    ...(root ? { root } : {}),
    ...(tracing === 'shipped' ? { otlpEndpoint: otlp, shippedSampling: true } : { env: { OTEL_SDK_DISABLED: 'true' } }),
  });
  const seeder = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret);
  await seedDemo(seeder, { vaultName: 'password-safe', passwordSafeUrl: system.simUrl, apiKey: 'demo-api-key', users: ['alice'], print: () => undefined });
  const credentialId = (await seeder.listCredentials('alice', 'srv-app01')).body.credentials[0]?.id as string;
  const client = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret, { startTraces: false, http: 'request' });
  let session = 0;
  const list = async () => (await client.listCredentials('alice', 'srv-app01')).status === 200;
  const inject = async () => (await client.inject(credentialId, 'alice', 'srv-app01', `ab-${label}-${session++}`)).status === 201;
  await constantRate(20, 2, list);
  await closedLoop(CONCURRENCY, WARM_UP_SECONDS, list);
  await closedLoop(CONCURRENCY, WARM_UP_SECONDS / 2, inject);
  return {
    label,
    groups: processGroups(system),
    list,
    inject,
    async stop() {
      await system.stop();
      await clearNamespaceKeys(namespace);
      await deleteNamespaceStreams(namespace);
      await db.drop();
    },
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

type Call = 'list' | 'inject';
interface Figures {
  rates: Record<Call, number[]>;
  cpu: Record<Call, CpuPerCall[]>;
}

/**
 * Rounds of each side's closed-loop lists and injections, alternating which side goes first, with the CPU each
 * call cost (only one side is loaded at a time, so the shared PostgreSQL, Redis and NATS are charged to it).
 */
async function rounds(sides: [Side, Side]): Promise<Record<string, Figures>> {
  const figures: Record<string, Figures> = Object.fromEntries(sides.map((s) => [s.label, { rates: { list: [], inject: [] }, cpu: { list: [], inject: [] } }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of round % 2 === 0 ? sides : [sides[1], sides[0]]) {
      const mine = figures[s.label] as Figures;
      for (const call of ['list', 'inject'] as const) {
        const { result, cpu } = await charged(s.groups, async () => {
          const run = await closedLoop(CONCURRENCY, SECONDS, s[call]);
          return { ...run, count: run.summary.count };
        });
        mine.rates[call].push(result.rate);
        mine.cpu[call].push(cpu);
      }
    }
    process.stdout.write(`round ${round + 1}: ${JSON.stringify(Object.fromEntries(Object.entries(figures).map(([k, f]) => [k, f.rates])))}\n`);
  }
  return figures;
}

const CPU_COLUMNS = ['broker', ...OPENECM, 'postgres', 'redis', 'nats'];
const SHORT: Record<string, string> = { broker: 'all', 'appliance-gateway': 'gateway', 'policy-approval': 'policy', 'vault-adapters': 'vault-ad.', 'token-cache': 'token-c.', 'session-reporting': 'reporting' };

/** Each side's median CPU per call, by process, from the rounds. */
function cpuTable(figures: Record<string, Figures>): string[] {
  const line = (label: string, call: Call) => {
    const runs = (figures[label] as Figures).cpu[call];
    return `| ${label}, ${call} | ${CPU_COLUMNS.map((c) => median(runs.map((r) => r[c] ?? Number.NaN)).toFixed(2)).join(' | ')} |`;
  };
  return [
    `| side, call | ${CPU_COLUMNS.map((c) => SHORT[c] ?? c).join(' | ')} |`,
    `|---|${CPU_COLUMNS.map(() => '---').join('|')}|`,
    line('before', 'list'),
    line('after', 'list'),
    line('before', 'inject'),
    line('after', 'inject'),
  ];
}

function commitOf(root: string): string {
  try {
    return execFileSync('git', ['-C', root, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).trim();
  } catch {
    return '(not a git checkout)';
  }
}

export async function runAgainstBench(): Promise<void> {
  const at = process.argv.indexOf('--against');
  const other = process.argv[at + 1] ? resolve(process.argv[at + 1] as string) : '';
  if (!other || !existsSync(resolve(other, 'node_modules')) || !existsSync(resolve(other, 'apps'))) {
    throw new Error('--against needs the path of another checkout with its own node_modules (git worktree add ../before <commit> && npm ci there)');
  }
  const collector = new OtlpCollector();
  const otlp = await collector.start(await freePort());
  collector.discarding = true;
  const sections: string[] = [];
  try {
    for (const tracing of TRACINGS) {
      const before = await side('before', other, tracing, otlp);
      const after = await side('after', undefined, tracing, otlp);
      try {
        const figures = await rounds([before, after]);
        const row = (label: string) => {
          const r = (figures[label] as Figures).rates;
          return `| ${label} | ${r.list.map((v) => v.toFixed(1)).join(', ')} | **${median(r.list).toFixed(1)}** | ${r.inject.map((v) => v.toFixed(1)).join(', ')} | **${median(r.inject).toFixed(1)}** |`;
        };
        // signed: a positive change is more calls per second, or more CPU per call
        const change = (values: (label: string) => number) => {
          const pct = ((values('after') - values('before')) / values('before')) * 100;
          return `${pct >= 0 ? '+' : '-'}${Math.abs(pct).toFixed(0)}%`;
        };
        const rate = (call: Call) => (label: string) => median((figures[label] as Figures).rates[call]);
        const cpu = (call: Call) => (label: string) => median((figures[label] as Figures).cpu[call].map((c) => c['broker'] ?? Number.NaN));
        sections.push(
          `## Tracing ${tracing === 'off' ? 'off (SDK disabled)' : 'as each release ships it'}`,
          '',
          '| checkout | lists/s by round | median | injections/s by round | median |',
          '|---|---|---|---|---|',
          row('before'),
          row('after'),
          '',
          `After against before: lists ${change(rate('list'))}, injections ${change(rate('inject'))}.`,
          '',
          'CPU ms per call, median of the rounds (user + system from /proc; "all" sums every OpenECM process, PostgreSQL, Redis and NATS):',
          '',
          ...cpuTable(figures),
          '',
          `CPU per call after against before: lists ${change(cpu('list'))}, injections ${change(cpu('inject'))}.`,
          '',
        );
      } finally {
        await before.stop();
        await after.stop();
      }
    }
  } finally {
    await collector.stop();
  }
  const text = [
    '# Benchmark: this checkout against another, side by side',
    '',
    `Run ${new Date().toISOString()}. Before: \`${commitOf(other)}\`. After: \`${commitOf(process.cwd())}\`.`,
    `Both systems up at once on this machine, each warmed up ${WARM_UP_SECONDS} s; closed loop with ${CONCURRENCY} calls in flight for ${SECONDS} s per call and round, ${ROUNDS} rounds, the side that goes first alternating. The load sends no traceparent; the collector drops exports unread; the simulator is untraced on both sides (it stands for a vault, which runs elsewhere).`,
    '',
    ...sections,
  ].join('\n');
  mkdirSync('docs/bench', { recursive: true });
  writeFileSync('docs/bench/against.md', text);
  process.stdout.write(`\n${text}\n`);
}
