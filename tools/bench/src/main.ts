/**
 * `npm run bench`: list and inject through the whole chain (gateway → NATS → policy-approval, vault-adapters,
 * token-cache → Password Safe simulator, Postgres, Redis, BullMQ, JetStream) at constant request rates, and in
 * the same run the floor: the same number of raw NATS request/replies plus one raw HTTP call to the simulator.
 * Prints the machine, both figures and their ratio, and writes docs/bench/latest.md.
 */
import {
  type CollectedSpan,
  type RunningSystem,
  NATS_URL,
  OtlpCollector,
  clearNamespaceKeys,
  createTestDatabase,
  deleteNamespaceStreams,
  freePort,
  waitFor,
} from '@openecm/testing';
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem, platform, release } from 'node:os';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { request } from 'undici';
import { ApplianceClient, seedDemo } from '@openecm/appliance-sim';
import { traceBreakdown } from './breakdown';
import { OPENECM, charged, processGroups, settle, type CpuPerCall, type ProcessGroups } from './cpu';
import { DEFAULT_TRACE_KEEP_SLOW_MS, DEFAULT_TRACE_SAMPLE_RATIO } from '@openecm/telemetry/register';
import { launchBenchSystem } from './bench-system';
import { runJumpItemsBench } from './jump-items';
import { runPoliciesBench } from './policies';
import { runProfileBench } from './profile';
import { runAgainstBench } from './against';
import { runReportingBench } from './reporting';
import { budgetLines } from './budget';
import { measureBareChain, type BareChain } from './bare-chain';
import { closedLoop, constantRate, pairedPrices, type Summary } from './stats';

const TARGET_P99_MS = 50;
const STEP_SECONDS = Number(process.env['BENCH_STEP_SECONDS'] ?? 5);
const RATES = (process.env['BENCH_RATES'] ?? '10,50,100,200,500,1000').split(',').map(Number);
/** Calls kept in flight by the closed-loop runs that find each call's maximum rate. */
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 16);

/**
 * NATS hops of each appliance call as the services make them with warm caches: a list is gateway →
 * policy-approval → vault-adapters; an injection adds the check-out's call to vault-adapters from policy-approval
 * and the lease's event. Each also makes one call to the simulator at least.
 */
const HOPS = { list: 2, inject: 3 };

/** CPU ms of each process group per completed call. */
interface Step {
  rate: number;
  list: Summary;
  inject: Summary;
  listCpu: CpuPerCall;
  injectCpu: CpuPerCall;
  floorList: Summary;
  floorInject: Summary;
  /** The steps (list, inject) that began before the system came to rest, after waiting the most `settle` waits. */
  unsettled: string[];
}

interface Max {
  tracing: 'on' | 'off';
  list: { rate: number; summary: Summary; cpu: CpuPerCall };
  inject: { rate: number; summary: Summary; cpu: CpuPerCall };
}

/** The tracing comparison: each system's median round, and every round's maxima in the order they ran. */
interface TracingComparison {
  maxima: Max[];
  rounds: Record<'on' | 'off', Max[]>;
}

const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');

async function floorOp(nc: NatsConnection, subject: string, hops: number, simUrl: string): Promise<boolean> {
  for (let i = 0; i < hops; i++) await nc.request(subject, new Uint8Array(64), { timeout: 5000 });
  // as vault-adapters calls a vault: undici's request on a keep-alive pool
  const res = await request(simUrl);
  await res.body.arrayBuffer();
  return res.statusCode === 200;
}

async function main(): Promise<void> {
  // the machine's speed now, before anything of the broker runs; measured again at the end
  const bare: BareChain[] = [await measureBareChain(CONCURRENCY, STEP_SECONDS)];
  const namespace = `bench${randomBytes(3).toString('hex')}`;
  const db = await createTestDatabase();
  process.env['OPENECM_NAMESPACE'] = namespace;
  // traces are exported as a deployment with a trace viewer would, and show where one request spends its time
  const collector = new OtlpCollector();
  const otlp = await collector.start(await freePort());
  // the simulator traced here, so that the unloaded request's breakdown shows the vault's own time too
  const system = await launchBenchSystem(namespace, db.url, { otlpEndpoint: otlp, shippedSampling: true, simEnv: {} });
  const nc = await connect({ servers: NATS_URL });
  const echoSubject = `${namespace}.bench.echo.v1`;
  const echo = nc.subscribe(echoSubject, { queue: 'bench' });
  void (async () => {
    for await (const m of echo) m.respond(m.data);
  })();
  const steps: Step[] = [];
  let comparison: TracingComparison = { maxima: [], rounds: { on: [], off: [] } };
  const breakdowns: Record<string, string[]> = {};
  try {
    const client = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret);
    await seedDemo(client, { vaultName: 'password-safe', passwordSafeUrl: system.simUrl, apiKey: 'demo-api-key', users: ['alice'], print: () => undefined });
    const listed = await client.listCredentials('alice', 'srv-app01');
    const credentialId = listed.body.credentials[0]?.id as string;
    const { list, inject } = appliance(system, credentialId, 'steps');
    const simStats = `${system.simControlUrl}/stats`;
    collector.discarding = true;
    await warmUp(list, inject);

    // unloaded requests, traced, on the warmed system before any rate could leave a backlog behind
    collector.discarding = false;
    for (const [name, call] of [
      ['list', () => client.listCredentials('alice', 'srv-app01')],
      ['inject', () => client.inject(credentialId, 'alice', 'srv-app01', `bench-traced-${randomBytes(4).toString('hex')}`)],
    ] as const) {
      breakdowns[name] = await medianTrace(collector, name, call);
    }
    collector.discarding = true;

    const groups = processGroups(system);
    for (const rate of RATES) {
      // each rate's figures are its own: what the previous step left behind runs down first
      const unsettled: string[] = [];
      const rest = async (before: string) => {
        const settled = await settle(groups);
        if (!settled.idle) unsettled.push(before);
      };
      await rest('list');
      const listed = await charged(groups, () => constantRate(rate, STEP_SECONDS, list));
      await rest('inject');
      const injected = await charged(groups, () => constantRate(rate, STEP_SECONDS, inject));
      const step: Step = {
        rate,
        list: listed.result,
        inject: injected.result,
        listCpu: listed.cpu,
        injectCpu: injected.cpu,
        floorList: await constantRate(rate, STEP_SECONDS, () => floorOp(nc, echoSubject, HOPS.list, simStats)),
        floorInject: await constantRate(rate, STEP_SECONDS, () => floorOp(nc, echoSubject, HOPS.inject, simStats)),
        unsettled,
      };
      steps.push(step);
      process.stdout.write(
        `rate ${rate}/s  list p50 ${fmt(step.list.p50)} p99 ${fmt(step.list.p99)} cpu ${fmt(step.listCpu['broker'] ?? Number.NaN)} ms  inject p50 ${fmt(step.inject.p50)} p99 ${fmt(step.inject.p99)} cpu ${fmt(step.injectCpu['broker'] ?? Number.NaN)} ms  floor p99 ${fmt(step.floorList.p99)}/${fmt(step.floorInject.p99)} ms  errors ${step.list.errors + step.inject.errors}\n`,
      );
      // past the knee at two rates in a row (one hiccup at a low rate, where a p99 is a single call, is no knee)
      const past = (st: Step | undefined) => st !== undefined && st.list.p99 > TARGET_P99_MS * 2 && st.inject.p99 > TARGET_P99_MS * 2;
      if (past(step) && past(steps[steps.length - 2])) break;
    }
  } finally {
    echo.unsubscribe();
    await nc.close();
    await system.stop();
    await clearNamespaceKeys(namespace);
    await deleteNamespaceStreams(namespace);
  }
  await db.drop();
  try {
    collector.discarding = true;
    comparison = await compareTracing(otlp);
  } finally {
    await collector.stop();
  }
  bare.push(await measureBareChain(CONCURRENCY, STEP_SECONDS));
  report(steps, comparison, breakdowns, bare);
}

/** The gateway's span of a call: its parent is the caller's, which is not collected. */
const rootOf = (spans: CollectedSpan[]) => spans.find((s) => s.service === 'appliance-gateway' && !spans.some((p) => p.spanId === s.parentSpanId));

/** Unloaded calls traced one after another for the breakdown; the one of median duration is shown. */
const TRACED_CALLS = 9;

/**
 * One of `TRACED_CALLS` unloaded calls, each sampled (the client starts a trace, as a caller may) and awaited with
 * its whole trace, simulator included: the breakdown of the call whose root span took the median time.
 */
async function medianTrace(collector: OtlpCollector, name: string, call: () => Promise<{ traceId: string }>): Promise<string[]> {
  const traces: Array<{ took: bigint; spans: CollectedSpan[] }> = [];
  for (let i = 0; i < TRACED_CALLS; i++) {
    const { traceId } = await call();
    const spans = await waitFor(() => {
      const t = collector.trace(traceId);
      const root = rootOf(t);
      // the consumers of an injection's event end last: its trace is whole once session-reporting's span is in
      const whole = t.some((s) => s.service === 'password-safe-sim') && (name !== 'inject' || t.some((s) => s.service === 'session-reporting'));
      return root && whole && t;
    }, { timeoutMs: 10_000, what: `the ${name} trace` });
    // each service exports in batches of its own: spans that end after the answer come with a later one
    await new Promise((r) => setTimeout(r, 700));
    const all = collector.trace(traceId).length > spans.length ? collector.trace(traceId) : spans;
    const root = rootOf(all) as CollectedSpan;
    traces.push({ took: root.endNs - root.startNs, spans: all });
  }
  traces.sort((a, b) => (a.took < b.took ? -1 : a.took > b.took ? 1 : 0));
  return traceBreakdown((traces[Math.floor(traces.length / 2)] as { spans: CollectedSpan[] }).spans);
}

/** Seconds of closed-loop calls of each kind before anything is measured: the JIT needs them to settle. */
const WARM_UP_SECONDS = Number(process.env['BENCH_WARM_UP_SECONDS'] ?? 10);

async function warmUp(list: () => Promise<boolean>, inject: () => Promise<boolean>): Promise<void> {
  await constantRate(20, 2, list);
  await closedLoop(CONCURRENCY, WARM_UP_SECONDS, list);
  await closedLoop(CONCURRENCY, WARM_UP_SECONDS / 2, inject);
}

/**
 * The appliance's two calls as the load sends them: without a traceparent of their own, as a remote-access
 * appliance sends none, so the gateway's sampling (as shipped) decides which are traced.
 */
function appliance(system: RunningSystem, credentialId: string, label: string) {
  const client = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret, { startTraces: false, http: 'request' });
  let session = 0;
  return {
    list: async () => (await client.listCredentials('alice', 'srv-app01')).status === 200,
    inject: async () => (await client.inject(credentialId, 'alice', 'srv-app01', `bench-${label}-${session++}`)).status === 201,
  };
}

/**
 * More environment for the traced system of the comparison (JSON), to find what tracing's cost is made of:
 * `{"OTEL_TRACES_SAMPLER":"always_off"}` keeps the instrumentations and the context, and records nothing.
 */
const TRACING_ENV = JSON.parse(process.env['BENCH_TRACING_ENV'] ?? '{}') as Record<string, string>;

/** Closed-loop rounds per system in the tracing comparison; each system's figure is its median round. */
const TRACING_ROUNDS = Number(process.env['BENCH_TRACING_ROUNDS'] ?? 5);

interface BenchSystem {
  system: RunningSystem;
  list: () => Promise<boolean>;
  inject: () => Promise<boolean>;
  stop(): Promise<void>;
}

/** A fresh system of its own (database, namespace), seeded and warmed, for the closed-loop runs. */
async function freshSystem(tracing: 'on' | 'off', otlp: string): Promise<BenchSystem> {
  const namespace = `bench${randomBytes(3).toString('hex')}`;
  const db = await createTestDatabase();
  const system = await launchBenchSystem(namespace, db.url, {
    ...(tracing === 'on' ? { otlpEndpoint: otlp, shippedSampling: true, env: TRACING_ENV } : { env: { OTEL_SDK_DISABLED: 'true' } }),
  });
  const client = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret);
  await seedDemo(client, { vaultName: 'password-safe', passwordSafeUrl: system.simUrl, apiKey: 'demo-api-key', users: ['alice'], print: () => undefined });
  const credentialId = (await client.listCredentials('alice', 'srv-app01')).body.credentials[0]?.id as string;
  const { list, inject } = appliance(system, credentialId, tracing);
  await warmUp(list, inject);
  return {
    system,
    list,
    inject,
    async stop() {
      await system.stop();
      await db.drop();
      await clearNamespaceKeys(namespace);
      await deleteNamespaceStreams(namespace);
    },
  };
}

/**
 * Tracing as shipped (OTLP export) against the SDK off, on two fresh systems up side by side: their closed-loop
 * runs alternate, round after round, so neither has the machine's better moment, and each system's figure is
 * its median round.
 */
async function compareTracing(otlp: string): Promise<TracingComparison> {
  const on = await freshSystem('on', otlp);
  const off = await freshSystem('off', otlp);
  try {
    const rounds: Record<'on' | 'off', Max[]> = { on: [], off: [] };
    for (let round = 0; round < TRACING_ROUNDS; round++) {
      // the system that goes first alternates, so neither always runs right after the other
      const pair = [['on', on], ['off', off]] as const;
      for (const [tracing, bench] of round % 2 === 0 ? pair : [pair[1], pair[0]]) {
        rounds[tracing].push(await maxima_(processGroups(bench.system), bench.list, bench.inject, tracing));
      }
    }
    const median = (runs: Max[], call: 'list' | 'inject') => [...runs].sort((a, b) => a[call].rate - b[call].rate)[Math.floor(runs.length / 2)] as Max;
    const maxima = (['on', 'off'] as const).map((tracing) => ({
      tracing,
      list: median(rounds[tracing], 'list').list,
      inject: median(rounds[tracing], 'inject').inject,
    }));
    return { maxima, rounds };
  } finally {
    await on.stop();
    await off.stop();
  }
}

/** The most each call reaches with CONCURRENCY calls in flight, and what it costs per call. */
async function maxima_(groups: ProcessGroups, list: () => Promise<boolean>, inject: () => Promise<boolean>, tracing: 'on' | 'off'): Promise<Max> {
  const wrap = async (op: () => Promise<boolean>) => {
    const { result, cpu } = await charged(groups, async () => {
      const run = await closedLoop(CONCURRENCY, STEP_SECONDS, op);
      return { ...run, count: run.summary.count };
    });
    process.stdout.write(`closed loop, tracing ${tracing}: ${fmt(result.rate)}/s p99 ${fmt(result.summary.p99)} ms cpu ${fmt(cpu['broker'] ?? Number.NaN)} ms\n`);
    return { rate: result.rate, summary: result.summary, cpu };
  };
  return { tracing, list: await wrap(list), inject: await wrap(inject) };
}

function report(steps: Step[], comparison: TracingComparison, breakdowns: Record<string, string[]>, bare: BareChain[]): void {
  const held = steps.filter((s) => s.list.p99 < TARGET_P99_MS && s.inject.p99 < TARGET_P99_MS && s.list.errors + s.inject.errors === 0);
  const best = held[held.length - 1];
  const cpu = cpus();
  const machine = `${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()} ${release()}, Node ${process.version}`;
  const rows = steps.map(
    (s) =>
      `| ${s.rate} | ${fmt(s.list.p50)} / ${fmt(s.list.p99)} / ${fmt(s.list.p999)} | ${fmt(s.inject.p50)} / ${fmt(s.inject.p99)} / ${fmt(s.inject.p999)} | ${fmt(s.floorList.p50)} / ${fmt(s.floorList.p99)} | ${fmt(s.floorInject.p50)} / ${fmt(s.floorInject.p99)} | ${s.list.errors + s.inject.errors}${s.unsettled.length ? ` (${s.unsettled.join(' and ')} began unsettled)` : ''} |`,
  );
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(1) : '-');
  const compared = best ?? steps[0];
  const summary = [
    best
      ? `Highest rate held with p99 under ${TARGET_P99_MS} ms for both calls: **${best.rate} requests/s each** (list and inject).`
      : `**No rate held p99 under ${TARGET_P99_MS} ms** for both calls; the lowest rate tried was ${steps[0]?.rate ?? '-'}/s.`,
    ...(compared
      ? [
          `At ${compared.rate}/s, system vs floor: list p50 ${fmt(compared.list.p50)} vs ${fmt(compared.floorList.p50)} ms (x${ratio(compared.list.p50, compared.floorList.p50)}), p99 ${fmt(compared.list.p99)} vs ${fmt(compared.floorList.p99)} ms (x${ratio(compared.list.p99, compared.floorList.p99)}); inject p50 ${fmt(compared.inject.p50)} vs ${fmt(compared.floorInject.p50)} ms (x${ratio(compared.inject.p50, compared.floorInject.p50)}), p99 ${fmt(compared.inject.p99)} vs ${fmt(compared.floorInject.p99)} ms (x${ratio(compared.inject.p99, compared.floorInject.p99)}).`,
        ]
      : []),
  ];
  const text = [
    '# Benchmark: list and inject through the whole chain',
    '',
    `Run ${new Date().toISOString()} on ${machine}.`,
    'Everything on this one machine: the five services and the Password Safe simulator as processes, NATS, Redis, PostgreSQL, and the load generator.',
    `Each rate runs ${STEP_SECONDS} s per call type, open loop (latency counted from when a call was due). Floor: ${HOPS.list} (list) or ${HOPS.inject} (inject) raw NATS request/replies to an echo responder plus one raw HTTP call to the simulator, at the same rate. Latencies are of the calls answered; errors count the others, the calls the gateway refused with 503 GATEWAY_BUSY beyond GATEWAY_MAX_IN_FLIGHT (ADR 26) among them. Each step begins once the system is at rest (its processes together under 5% of a core for 500 ms, waited for up to 30 s), so that what one step left behind is not charged to the next.`,
    '',
    ...summary,
    '',
    '| rate/s | list p50 / p99 / p99.9 ms | inject p50 / p99 / p99.9 ms | floor (list) p50 / p99 | floor (inject) p50 / p99 | errors |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    ...cpuReport(steps),
    '',
    ...maximaReport(comparison),
    '',
    ...bareChainReport(bare, comparison),
    '',
    `Where an unloaded request spends its time (start and duration in ms, from its trace; of ${TRACED_CALLS} traced one after another on the warmed system, before the rates, the one of median duration):`,
    '',
    ...Object.entries(breakdowns).flatMap(([name, lines]) => [`${name}:`, '```', ...lines, '```', '']),
  ].join('\n');
  process.stdout.write(`\n${text}\n`);
  mkdirSync('docs/bench', { recursive: true });
  writeFileSync('docs/bench/latest.md', text);
}

const CPU_COLUMNS = [...OPENECM, 'postgres', 'redis', 'nats'];
const SHORT: Record<string, string> = {
  'appliance-gateway': 'gateway',
  'policy-approval': 'policy',
  'vault-adapters': 'vault-ad.',
  'token-cache': 'token-c.',
  'session-reporting': 'reporting',
};

/** CPU ms per call of every OpenECM process and the infrastructure, from /proc, for each rate. */
function cpuReport(steps: Step[]): string[] {
  const head = `| call, rate/s | all (ms) | ${CPU_COLUMNS.map((c) => SHORT[c] ?? c).join(' | ')} | simulator | load gen. |`;
  const line = (label: string, cpu: CpuPerCall) =>
    `| ${label} | **${fmt(cpu['broker'] ?? Number.NaN)}** | ${CPU_COLUMNS.map((c) => fmt(cpu[c] ?? Number.NaN)).join(' | ')} | ${fmt(cpu['password-safe-sim'] ?? Number.NaN)} | ${fmt(cpu['load-generator'] ?? Number.NaN)} |`;
  return [
    'CPU per call (user + system ms from /proc, 10 ms ticks; "all" sums every OpenECM process, PostgreSQL, Redis and NATS, the simulator and the load generator apart):',
    '',
    head,
    `|---|---|${CPU_COLUMNS.map(() => '---').join('|')}|---|---|`,
    ...steps.flatMap((s) => [line(`list, ${s.rate}`, s.listCpu), line(`inject, ${s.rate}`, s.injectCpu)]),
    '',
    ...budgetReport(steps),
  ];
}

/** The rate whose CPU per call the budget is read from: loaded, as the targets are, and not yet overrun. */
const BUDGET_RATE = 500;

function budgetReport(steps: Step[]): string[] {
  const at = steps.find((s) => s.rate === BUDGET_RATE) ?? steps[steps.length - 1];
  if (!at) return [];
  const lines = budgetLines(cpus().length, { list: at.listCpu, inject: at.injectCpu }, at.rate);
  return ['What the rates of issue 11 leave for the broker on this machine (CPU per call as measured at the rate named):', '', ...lines];
}

/** Tracing's price of each round (its traced run against the untraced run next to it), and their median. */
function pricesByRound(rounds: TracingComparison['rounds']): string[] {
  const percent = (p: number) => (Number.isFinite(p) ? `${(p * 100).toFixed(0)}%` : '-');
  const line = (call: 'list' | 'inject') => {
    const { each, median } = pairedPrices(rounds.on.map((m) => m[call].rate), rounds.off.map((m) => m[call].rate));
    return `${call === 'list' ? 'lists' : 'injections'} ${each.map(percent).join(', ')} (median ${percent(median)})`;
  };
  if (rounds.on.length === 0) return [];
  return [`Round by round, each traced run against the untraced run next to it: ${line('list')}; ${line('inject')}. How far these spread is how far one run's price can be trusted.`];
}

/** Closed-loop maxima with tracing as shipped (OTLP export) and with the SDK off, and the price of tracing. */
function maximaReport({ maxima, rounds }: TracingComparison): string[] {
  const on = maxima.find((m) => m.tracing === 'on');
  const off = maxima.find((m) => m.tracing === 'off');
  const cost = (a?: number, b?: number) => (a && b ? `${(((b - a) / b) * 100).toFixed(0)}%` : '-');
  return [
    `Maximum, closed loop with ${CONCURRENCY} calls in flight for ${STEP_SECONDS} s, on two fresh systems up side by side (tracing as shipped, and the SDK off), their runs alternating (which goes first too) for ${TRACING_ROUNDS} rounds; each figure is the system's median round:`,
    '',
    '| tracing | list/s | list p50 / p99 ms | list CPU ms | inject/s | inject p50 / p99 ms | inject CPU ms |',
    '|---|---|---|---|---|---|---|',
    ...maxima.map(
      (m) =>
        `| ${m.tracing === 'on' ? 'on, as shipped' : 'off (SDK disabled)'} | ${fmt(m.list.rate)} | ${fmt(m.list.summary.p50)} / ${fmt(m.list.summary.p99)} | ${fmt(m.list.cpu['broker'] ?? Number.NaN)} | ${fmt(m.inject.rate)} | ${fmt(m.inject.summary.p50)} / ${fmt(m.inject.summary.p99)} | ${fmt(m.inject.cpu['broker'] ?? Number.NaN)} |`,
    ),
    '',
    `Tracing costs ${cost(on?.list.rate, off?.list.rate)} of the list maximum and ${cost(on?.inject.rate, off?.inject.rate)} of the inject maximum (issue 11 allows 15%).`,
    ...pricesByRound(rounds),
    `Tracing as shipped: OTLP export of one trace in ${Math.round(1 / DEFAULT_TRACE_SAMPLE_RATIO)} (parent-based ratio, TRACE_SAMPLE_RATIO) and of every failed request and every one slower than ${DEFAULT_TRACE_KEEP_SLOW_MS} ms (TRACE_KEEP_SLOW_MS); the load sends no traceparent, as an appliance sends none. The bench's collector answers every export and drops it unread while load runs (a deployment's collector is not on the broker's cores), and the simulator is untraced on both sides (it stands for a vault, which is not either); ${WARM_UP_SECONDS} s of closed-loop calls of each kind warm every system up before it is measured.`,
  ];
}

/** The bare chain at the run's start and end, against the broker's closed-loop list with tracing off. */
function bareChainReport(bare: BareChain[], { maxima }: TracingComparison): string[] {
  const off = maxima.find((m) => m.tracing === 'off');
  const broker = off?.list.cpu['broker'] ?? Number.NaN;
  const at = (label: string, b: BareChain) =>
    `| ${label} | ${fmt(b.rate)} | ${fmt(b.summary.p50)} / ${fmt(b.summary.p99)} | **${b.cpu['all']?.toFixed(2) ?? '-'}** | ${['appliance-gateway', 'policy-approval', 'vault-adapters', 'nats', 'vault'].map((r) => b.cpu[r]?.toFixed(2) ?? '-').join(' | ')} |`;
  const [first, last] = [bare[0], bare[bare.length - 1]];
  const mean = bare.reduce((sum, b) => sum + (b.cpu['all'] ?? 0), 0) / Math.max(1, bare.length);
  return [
    `The bare chain (tools/bench/src/bare-chain.ts), closed loop with ${CONCURRENCY} in flight for ${STEP_SECONDS} s at the run's start and at its end: a list's four hops as four processes with nothing but the libraries the services use for them (node:http, the services' NATS connection, two undici calls to a stub vault), no framework, validation, policy, cache, audit or tracing. It is the floor of this design on this machine at that moment, and a gauge of the machine's speed, which drifts between runs by more than most changes move the broker.`,
    '',
    '| bare chain | lists/s | p50 / p99 ms | CPU ms per list (gateway + policy + vault-adapters + NATS) | gateway | policy | vault-ad. | nats | stub vault |',
    '|---|---|---|---|---|---|---|---|---|',
    ...(first ? [at('start', first)] : []),
    ...(last && last !== first ? [at('end', last)] : []),
    '',
    `The broker's list, closed loop with tracing off, used ${fmt(broker)} ms of CPU per list: ${Number.isFinite(broker) && mean > 0 ? (broker / mean).toFixed(1) : '-'} times the bare chain's (${mean.toFixed(2)} ms, the mean of the two), PostgreSQL, Redis and the two other services included on its side.`,
  ];
}

/**
 * `--tracing` alone: the closed-loop comparison of tracing as shipped against the SDK off, without the rate steps,
 * printed. With BENCH_TRACING_ENV it finds what tracing's cost is made of, one switch at a time (for example
 * `{"OTEL_NODE_DISABLED_INSTRUMENTATIONS":"pg,ioredis"}`).
 */
async function tracingAlone(): Promise<void> {
  const collector = new OtlpCollector();
  const otlp = await collector.start(await freePort());
  collector.discarding = true;
  try {
    const comparison = await compareTracing(otlp);
    process.stdout.write(`\ntraced system's extra environment: ${JSON.stringify(TRACING_ENV)}\n${maximaReport(comparison).join('\n')}\n`);
  } finally {
    await collector.stop();
  }
}

// `--hot-path`, `--jump-items`, `--reporting` or `--policies` runs those figures alone; a plain run does all four.
// `--profile` (alone only) writes where a list's CPU goes in each process; `--tracing` (alone only) prints tracing's price; `--against <checkout>` (alone only)
// compares this checkout with another side by side.
const ALONE: Record<string, () => Promise<void>> = {
  '--hot-path': main,
  '--jump-items': runJumpItemsBench,
  '--reporting': runReportingBench,
  '--policies': runPoliciesBench,
  '--profile': runProfileBench,
  '--against': runAgainstBench,
  '--tracing': tracingAlone,
};
const only = Object.keys(ALONE).find((flag) => process.argv.includes(flag));
const run = only ? (ALONE[only] as () => Promise<void>)() : main().then(runJumpItemsBench).then(runReportingBench).then(runPoliciesBench);
run.catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
