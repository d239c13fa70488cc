/**
 * `npm run bench -- --profile`: where a list's CPU goes inside each service. Starts the system with V8's
 * sampling profiler on in every process (tracing off, so the profile shows the broker itself), drives lists
 * at a constant rate, stops the system so each process writes its profile, and reports each service's self
 * time by package and by function in docs/bench/profile.md.
 */
import { OtlpCollector, clearNamespaceKeys, createTestDatabase, deleteNamespaceStreams, freePort } from '@openecm/testing';
import { ApplianceClient, seedDemo } from '@openecm/appliance-sim';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureCpu } from './cpu';
import { constantRate } from './stats';
import { launchBenchSystem } from './bench-system';

const RATE = Number(process.env['BENCH_PROFILE_RATE'] ?? 150);
/** `shipped` profiles with tracing as shipped (OTLP export to a collector that drops it unread); off otherwise. */
const TRACING = process.env['BENCH_PROFILE_TRACING'] === 'shipped' ? 'shipped' : 'off';
/** `list` or `inject`: the call profiled. */
const CALL = process.env['BENCH_PROFILE_CALL'] === 'inject' ? 'inject' : 'list';
const SECONDS = Number(process.env['BENCH_PROFILE_SECONDS'] ?? 15);
const TOP = Number(process.env['BENCH_PROFILE_TOP'] ?? 12);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** What a frame's code belongs to: a package, a part of the project, Node itself, or V8's own work. */
export function ownerOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const project = /\/((?:apps|libs|tools)\/[^/]+)\//.exec(url);
  return project ? (project[1] as string) : url;
}

/** Self time (ms) of each frame, from the samples and their time deltas. */
export function selfTimes(profile: CpuProfile): Map<ProfileNode, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<ProfileNode, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    self.set(node, (self.get(node) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return self;
}

/** The table of one profile: total busy time, then the top packages and functions by self time. */
export function summariseProfile(profile: CpuProfile, calls: number, call = 'list'): string[] {
  const self = selfTimes(profile);
  const idle = [...self].filter(([n]) => n.callFrame.functionName === '(idle)').reduce((s, [, ms]) => s + ms, 0);
  const busy = [...self].reduce((s, [, ms]) => s + ms, 0) - idle;
  const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [node, ms] of self) {
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    const owner = ownerOf(url, functionName);
    add(owners, owner, ms);
    add(functions, `${functionName || '(anonymous)'} ${owner}${url ? `:${lineNumber + 1}` : ''}`, ms);
  }
  const top = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([name, ms]) => `| ${name.replaceAll('|', '\\|')} | ${(ms / calls).toFixed(3)} | ${((ms / busy) * 100).toFixed(1)}% |`);
  return [
    `Busy ${(busy / calls).toFixed(2)} ms per ${call} (sampled wall time on the main thread: time the process waited for a core inside a call counts too).`,
    '',
    `| package or part | ms per ${call} | share |`,
    '|---|---|---|',
    ...top(owners),
    '',
    `| function | ms per ${call} | share |`,
    '|---|---|---|',
    ...top(functions),
  ];
}

export async function runProfileBench(): Promise<void> {
  const namespace = `bench${randomBytes(3).toString('hex')}`;
  const db = await createTestDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'openecm-profile-'));
  const collector = new OtlpCollector();
  const otlp = await collector.start(await freePort());
  collector.discarding = true;
  const system = await launchBenchSystem(namespace, db.url, {
    ...(TRACING === 'shipped' ? { otlpEndpoint: otlp, shippedSampling: true } : { env: { OTEL_SDK_DISABLED: 'true' } }),
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
  });
  const pidToName = new Map(system.processes.map((p) => [p.child.pid as number, p.name]));
  let calls = 0;
  let cpu: Record<string, number> = {};
  try {
    const seeder = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret);
    // the load sends no traceparent, as an appliance sends none
    const client = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret, { startTraces: false, http: 'request' });
    await seedDemo(seeder, { vaultName: 'password-safe', passwordSafeUrl: system.simUrl, apiKey: 'demo-api-key', users: ['alice'], print: () => undefined });
    const list = async () => (await client.listCredentials('alice', 'srv-app01')).status === 200;
    const credentialId = (await client.listCredentials('alice', 'srv-app01')).body.credentials[0]?.id as string;
    let session = 0;
    const inject = async () => (await client.inject(credentialId, 'alice', 'srv-app01', `profile-${session++}`)).status === 201;
    const call = CALL === 'inject' ? inject : list;
    await constantRate(20, 3, call);
    // each profile covers its process's whole life: only the samples of the measured run are counted
    const from = monotonicMicros();
    const meter = measureCpu(Object.fromEntries(system.processes.map((p) => [p.name, () => [p.child.pid as number]])));
    const run = await constantRate(RATE, SECONDS, call);
    cpu = meter.stop();
    const to = monotonicMicros();
    calls = run.count;
    writeFileSync(join(dir, 'window.json'), JSON.stringify({ from, to }));
    process.stdout.write(`profiled ${run.count} ${CALL}s at ${RATE}/s: p50 ${run.p50.toFixed(1)} p99 ${run.p99.toFixed(1)} ms, ${run.errors} errors\n`);
  } finally {
    await system.stop();
    await clearNamespaceKeys(namespace);
    await deleteNamespaceStreams(namespace);
    await db.drop();
    await collector.stop();
  }
  const window = JSON.parse(readFileSync(join(dir, 'window.json'), 'utf8')) as { from: number; to: number };
  const sections: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
    // CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile
    const pid = Number(file.split('.')[3]);
    const name = pidToName.get(pid);
    if (!name) continue;
    const profile = inWindow(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, window);
    sections.push(`## ${name}`, '', `CPU from /proc: ${((cpu[name] ?? 0) / calls).toFixed(2)} ms per ${CALL}.`, '', ...summariseProfile(profile, calls, CALL), '');
  }
  // BENCH_PROFILE_KEEP=1 leaves the .cpuprofile files for a closer look (Chrome DevTools, or a call-tree script)
  if (process.env['BENCH_PROFILE_KEEP']) process.stdout.write(`profiles kept in ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
  const text = [
    `# Profile: where ${CALL === 'list' ? 'a list' : 'an injection'} spends its CPU`,
    '',
    `Run ${new Date().toISOString()}: ${calls} ${CALL}s at ${RATE}/s for ${SECONDS} s, tracing ${TRACING === 'off' ? 'off' : 'as shipped'}, V8's sampling profiler in every process (it adds its own cost). Self time per call, by package and by function. The profiler samples wall time: a process that a busy core preempts inside a socket write shows the wait as writeBuffer or writev, so those lines overstate what the write costs; the CPU from /proc is the real CPU.`,
    '',
    ...sections,
  ].join('\n');
  mkdirSync('docs/bench', { recursive: true });
  writeFileSync(`docs/bench/profile${CALL === 'list' ? '' : '-inject'}${TRACING === 'off' ? '' : '-traced'}.md`, text);
  process.stdout.write(`\n${text}\n`);
}

/**
 * The samples of a profile taken in the measured window. A profile's times are microseconds of the monotonic
 * clock that `process.hrtime` reads too, so the window is taken with it in this process.
 */
export function inWindow(profile: CpuProfile, window: { from: number; to: number }): CpuProfile {
  const samples: number[] = [];
  const deltas: number[] = [];
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < window.from || t > window.to) return;
    samples.push(id);
    deltas.push(delta);
  });
  return { ...profile, samples, timeDeltas: deltas };
}

const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);
