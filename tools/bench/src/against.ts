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
import { closedLoop, constantRate } from './stats';

const ROUNDS = Number(process.env['BENCH_AGAINST_ROUNDS'] ?? 4);
const SECONDS = Number(process.env['BENCH_STEP_SECONDS'] ?? 5);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
const WARM_UP_SECONDS = Number(process.env['BENCH_WARM_UP_SECONDS'] ?? 10);
/** `off`, `shipped` or both (the default): which tracing the two sides run with. */
const TRACINGS = (['off', 'shipped'] as const).filter((t) => (process.env['BENCH_AGAINST_TRACING'] ?? t) === t);

interface Side {
  label: string;
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
  const client = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret, { startTraces: false });
  let session = 0;
  const list = async () => (await client.listCredentials('alice', 'srv-app01')).status === 200;
  const inject = async () => (await client.inject(credentialId, 'alice', 'srv-app01', `ab-${label}-${session++}`)).status === 201;
  await constantRate(20, 2, list);
  await closedLoop(CONCURRENCY, WARM_UP_SECONDS, list);
  await closedLoop(CONCURRENCY, WARM_UP_SECONDS / 2, inject);
  return {
    label,
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

/** Rounds of each side's closed-loop lists and injections, alternating which side goes first. */
async function rounds(sides: [Side, Side]): Promise<Record<string, { list: number[]; inject: number[] }>> {
  const rates = Object.fromEntries(sides.map((s) => [s.label, { list: [] as number[], inject: [] as number[] }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of round % 2 === 0 ? sides : [sides[1], sides[0]]) {
      const figures = rates[s.label] as { list: number[]; inject: number[] };
      figures.list.push((await closedLoop(CONCURRENCY, SECONDS, s.list)).rate);
      figures.inject.push((await closedLoop(CONCURRENCY, SECONDS, s.inject)).rate);
    }
    process.stdout.write(`round ${round + 1}: ${JSON.stringify(rates)}\n`);
  }
  return rates;
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
        const rates = await rounds([before, after]);
        const row = (label: string) => {
          const r = rates[label] as { list: number[]; inject: number[] };
          return `| ${label} | ${r.list.map((v) => v.toFixed(1)).join(', ')} | **${median(r.list).toFixed(1)}** | ${r.inject.map((v) => v.toFixed(1)).join(', ')} | **${median(r.inject).toFixed(1)}** |`;
        };
        const change = (call: 'list' | 'inject') => {
          const b = median((rates['before'] as Record<string, number[]>)[call] as number[]);
          const a = median((rates['after'] as Record<string, number[]>)[call] as number[]);
          return `${a >= b ? '+' : ''}${(((a - b) / b) * 100).toFixed(0)}%`;
        };
        sections.push(
          `## Tracing ${tracing === 'off' ? 'off (SDK disabled)' : 'as each release ships it'}`,
          '',
          '| checkout | lists/s by round | median | injections/s by round | median |',
          '|---|---|---|---|---|',
          row('before'),
          row('after'),
          '',
          `After against before: lists ${change('list')}, injections ${change('inject')}.`,
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
