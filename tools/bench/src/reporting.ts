/**
 * The session-reporting figures of issue 10: the appliance's batch call sustained into PostgreSQL, and, with
 * BENCH_REPORT_SESSIONS sessions and ten events each loaded by a generator (SQL, in the database), each summary,
 * a filtered and sorted grid page, and the CSV of every session streamed with the gateway's and
 * session-reporting's peak memory. `npm run bench -- --reporting` runs these alone; writes docs/bench/reporting.md.
 */
import { ApplianceClient } from '@openecm/appliance-sim';
import { SESSION_EVENT_TYPES } from '@openecm/contracts';
import { NATS_URL, clearNamespaceKeys, createTestDatabase, deleteNamespaceStreams, type RunningSystem } from '@openecm/testing';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { Client } from 'pg';
import { summarise, type Summary } from './stats';
import { launchBenchSystem } from './bench-system';

const SESSIONS = Number(process.env['BENCH_REPORT_SESSIONS'] ?? 1_000_000);
const EVENTS_PER_SESSION = 10;
const INGEST_SECONDS = Number(process.env['BENCH_INGEST_SECONDS'] ?? 10);
const BATCH = 1000;
/**
 * The services of this bench run with their V8 heap bounded: an export that held its rows would die of it, so a
 * completed export of a million rows shows the memory is flat whatever the resident size a lazy GC leaves.
 */
const HEAP_MB = Number(process.env['BENCH_REPORT_HEAP_MB'] ?? 160);
const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');

/** Resident memory of a process in MiB, from /proc (0 when it is gone). */
function rssMiB(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return Number(line?.replace(/\D+/g, '') ?? 0) / 1024;
  } catch {
    return 0;
  }
}

async function timed(times: number, call: (i: number) => Promise<boolean>): Promise<Summary> {
  const latencies: number[] = [];
  let errors = 0;
  for (let i = 0; i < times; i++) {
    const at = performance.now();
    if (await call(i)) latencies.push(performance.now() - at);
    else errors += 1;
  }
  return summarise(latencies, errors);
}

/** Sessions over a year, ten events each (one injection, every other event type in turn), 5,000 users, 20,000 endpoints. */
async function generate(pg: Client): Promise<number> {
  const started = performance.now();
  await pg.query(`
    INSERT INTO reporting.session (lsid, type, start_time, end_time, duration, host_name, jump_group_name, user_name, endpoint, credential_name, vault, emergency, injections, failures)
    SELECT 'gen-' || g, 'support', t, t + interval '20 minutes', 1200, 'pra-' || (g % 3), 'group-' || (g % 40), 'user' || (g % 5000), 'srv-' || (g % 20000),
           'cred-' || (g % 800), 'vault-' || (g % 2), g % 997 = 0, 1, CASE WHEN g % 50 = 0 THEN 1 ELSE 0 END
      FROM generate_series(1, $1::int) g, LATERAL (SELECT timestamptz '2026-01-01' + (g * (31536000.0 / $1::int)) * interval '1 second' AS t) s`, [SESSIONS]);
  const types = [
    'Session Start',
    SESSION_EVENT_TYPES.credentialsListed,
    SESSION_EVENT_TYPES.credentialsUsed,
    'File Transfer',
    'Command',
    'Command',
    SESSION_EVENT_TYPES.credentialsReleased,
    SESSION_EVENT_TYPES.credentialRotated,
    'Session End',
    'Command',
  ];
  await pg.query(
    `INSERT INTO reporting.session_event (session_id, type, performed_by_type, performed_by, destination, timestamp, event_key, source, credential_name, vault)
     SELECT s.id, ($1::text[])[k], CASE WHEN k IN (1, 9) THEN 'system' ELSE 'representative' END, s.user_name, s.endpoint,
            s.start_time + k * interval '1 minute', s.lsid || ':' || k, CASE WHEN k IN (1, 4, 5, 6, 9, 10) THEN 'appliance' ELSE 'broker' END,
            s.credential_name, s.vault
       FROM reporting.session s CROSS JOIN generate_series(1, ${EVENTS_PER_SESSION}) k`,
    [types],
  );
  await pg.query('VACUUM ANALYZE reporting.session');
  await pg.query('VACUUM ANALYZE reporting.session_event');
  return (performance.now() - started) / 1000;
}

/** The appliance's batch call, 1,000 events a batch, two batches in flight, for INGEST_SECONDS. */
async function ingest(client: ApplianceClient): Promise<{ perSecond: number; batches: Summary; stored: number }> {
  let batch = 0;
  let stored = 0;
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + INGEST_SECONDS * 1000;
  const started = performance.now();
  const worker = async () => {
    while (performance.now() < end) {
      const b = batch++;
      const events = Array.from({ length: BATCH }, (_, i) => ({
        lsid: `ingest-${b}-${i % 50}`,
        // one in ten an injection, so every rollup the store keeps is written as it ingests
        type: i % 10 === 0 ? 'Session Start' : i % 10 === 5 ? SESSION_EVENT_TYPES.credentialsUsed : 'Command',
        timestamp: new Date(Date.UTC(2026, 5, 1) + b * 1000 + i).toISOString(),
        performedByType: 'representative',
        performedBy: `user${i % 500}`,
        destination: `srv-${i % 1000}`,
        eventId: `ingest-${b}-${i}`,
        data: { command: `ls /var/log/${i}` },
      }));
      const at = performance.now();
      const res = await client.call<{ stored: number }>('POST', '/api/v1/sessions/events', { events });
      if (res.status === 200) {
        latencies.push(performance.now() - at);
        stored += res.body.stored;
      } else errors += 1;
    }
  };
  await Promise.all([worker(), worker()]);
  return { perSecond: stored / ((performance.now() - started) / 1000), batches: summarise(latencies, errors), stored };
}

/** Streams the CSV of every session, sampling both processes' memory, and counts rows and the first byte's time. */
async function csvExport(system: RunningSystem, token: string): Promise<{ rows: number; seconds: number; firstByteMs: number; gatewayPeak: number; reportingPeak: number; baseline: number[] }> {
  const pid = (name: string) => system.processes.find((p) => p.name === name)?.child.pid;
  const [gw, sr] = [pid('appliance-gateway'), pid('session-reporting')];
  const baseline = [rssMiB(gw), rssMiB(sr)];
  let gatewayPeak = baseline[0] ?? 0;
  let reportingPeak = baseline[1] ?? 0;
  const sampler = setInterval(() => {
    gatewayPeak = Math.max(gatewayPeak, rssMiB(gw));
    reportingPeak = Math.max(reportingPeak, rssMiB(sr));
  }, 50);
  const started = performance.now();
  const res = await fetch(`${system.gatewayUrl}/api/v1/reports/sessions?sort=startTime`, { headers: { authorization: `Bearer ${token}`, accept: 'text/csv' } });
  let firstByteMs = Number.NaN;
  let newlines = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    if (Number.isNaN(firstByteMs)) firstByteMs = performance.now() - started;
    for (const byte of chunk) if (byte === 10) newlines += 1;
  }
  clearInterval(sampler);
  return { rows: newlines - 1, seconds: (performance.now() - started) / 1000, firstByteMs, gatewayPeak, reportingPeak, baseline };
}

interface Explained {
  label: string;
  statements: Array<{ scans: string[]; ms: number }>;
}

/** The plans of the same queries, as the service's own code sends them (apps/session-reporting/bench). */
async function explain(databaseUrl: string, namespace: string, wanted: Array<{ label: string; kind: string; query: Record<string, string> }>): Promise<Explained[]> {
  const { stdout } = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', 'apps/session-reporting/bench/explain-report-queries.ts', JSON.stringify(wanted)], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      NATS_URL,
      OPENECM_NAMESPACE: `${namespace}x`,
      APPLIANCE_SETTINGS_KEYS: `bench:${randomBytes(32).toString('base64')}`,
      LOG_LEVEL: 'warn',
      OTEL_SDK_DISABLED: 'true',
    },
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]') as Explained[];
}

export async function runReportingBench(): Promise<void> {
  const namespace = `bench${randomBytes(3).toString('hex')}`;
  const db = await createTestDatabase();
  const system = await launchBenchSystem(namespace, db.url, {
    env: { NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --max-old-space-size=${HEAP_MB}`.trim() },
  });
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  const lines: string[] = [];
  try {
    const client = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret);
    const token = (await client.authenticate()).body.access_token;
    const ingested = await ingest(client);
    process.stdout.write(`ingestion: ${fmt(ingested.perSecond)} events/s, batch p50 ${fmt(ingested.batches.p50)} p99 ${fmt(ingested.batches.p99)} ms\n`);
    const generatedIn = await generate(pg);
    process.stdout.write(`generated ${SESSIONS} sessions and ${SESSIONS * EVENTS_PER_SESSION} events in ${fmt(generatedIn)} s\n`);

    const get = async (path: string) => (await fetch(`${system.gatewayUrl}${path}`, { headers: { authorization: `Bearer ${token}` } })).status === 200;
    const ranges: Array<[string, string, string]> = [
      ['one day', '2026-06-01T00:00:00Z', '2026-06-02T00:00:00Z'],
      ['one month', '2026-06-01T00:00:00Z', '2026-07-01T00:00:00Z'],
      ['the whole year', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'],
      ['11 months, partial days at both ends', '2026-01-15T06:00:00Z', '2026-12-16T18:00:00Z'],
      ['two years, partial days at both ends', '2025-07-01T12:00:00Z', '2027-06-30T12:00:00Z'],
    ];
    const summaries = [];
    for (const [label, from, to] of ranges) {
      await get(`/api/v1/reports/summary?from=${from}&to=${to}`);
      summaries.push({ label, summary: await timed(10, () => get(`/api/v1/reports/summary?from=${from}&to=${to}`)) });
    }
    const grids: Array<[string, (i: number) => string]> = [
      ['sessions of one user, newest first', (i) => `/api/v1/reports/sessions?user=user${i * 37 % 5000}&sort=-startTime&limit=100`],
      ['sessions whose endpoint starts with a prefix, by start', (i) => `/api/v1/reports/sessions?endpoint.prefix=srv-${i % 90 + 10}&sort=startTime&limit=100`],
      ['injections in a month, newest first', () => `/api/v1/reports/events?type=${encodeURIComponent(SESSION_EVENT_TYPES.credentialsUsed)}&timestamp.from=2026-03-01T00:00:00Z&timestamp.to=2026-04-01T00:00:00Z&sort=-timestamp&limit=100`],
      ['emergency sessions, newest first', () => `/api/v1/reports/sessions?emergency=true&sort=-startTime&limit=100`],
    ];
    const pages = [];
    for (const [label, path] of grids) {
      await get(path(0));
      pages.push({ label, summary: await timed(40, (i) => get(path(i))) });
    }
    const plans = await explain(db.url, namespace, [
      ...ranges.map(([label, from, to]) => ({ label: `summary, ${label}`, kind: 'summary', query: { from, to } })),
      { label: grids[0]?.[0] as string, kind: 'sessions', query: { user: 'user37', sort: '-startTime', limit: '100' } },
      { label: grids[1]?.[0] as string, kind: 'sessions', query: { 'endpoint.prefix': 'srv-42', sort: 'startTime', limit: '100' } },
      {
        label: grids[2]?.[0] as string,
        kind: 'events',
        query: { type: SESSION_EVENT_TYPES.credentialsUsed, 'timestamp.from': '2026-03-01T00:00:00Z', 'timestamp.to': '2026-04-01T00:00:00Z', sort: '-timestamp', limit: '100' },
      },
      { label: grids[3]?.[0] as string, kind: 'sessions', query: { emergency: 'true', sort: '-startTime', limit: '100' } },
    ]).catch((error: Error) => {
      process.stderr.write(`the plans could not be read: ${error.message}\n`);
      return [] as Explained[];
    });
    const csv = await csvExport(system, token);
    process.stdout.write(`CSV: ${csv.rows} rows in ${fmt(csv.seconds)} s, first byte ${fmt(csv.firstByteMs)} ms, peak RSS gateway ${fmt(csv.gatewayPeak)} MiB, session-reporting ${fmt(csv.reportingPeak)} MiB\n`);

    const cpu = cpus();
    lines.push(
      '# Benchmark: session reporting',
      '',
      `Run ${new Date().toISOString()} on ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()} ${release()}, Node ${process.version}; everything on this one machine, through the gateway's HTTP API.`,
      '',
      `**Ingestion** (POST /api/v1/sessions/events, ${BATCH} events a batch (one in ten an injection), two batches in flight, ${INGEST_SECONDS} s, into an empty store): **${fmt(ingested.perSecond)} events/s** stored (${ingested.stored} events); a batch took p50 ${fmt(ingested.batches.p50)} ms, p99 ${fmt(ingested.batches.p99)} ms; ${ingested.batches.errors} errors.`,
      '',
      `**Store**: ${SESSIONS.toLocaleString('en')} sessions and ${(SESSIONS * EVENTS_PER_SESSION).toLocaleString('en')} events over 2026 (5,000 users, 20,000 endpoints), generated in the database in ${fmt(generatedIn)} s, then VACUUM ANALYZE.`,
      '',
      'Summary (every card, the top 10s and the series in one call; 10 calls each after one warm-up):',
      '',
      '| range | p50 ms | p95 ms | max ms |',
      '|---|---|---|---|',
      ...summaries.map(({ label, summary }) => `| ${label} | ${fmt(summary.p50)} | ${fmt(summary.p95)} | ${fmt(summary.max)} |`),
      '',
      'Grid pages (100 rows, filtered and sorted; 40 calls each with varying values after one warm-up):',
      '',
      '| page | p50 ms | p95 ms | max ms |',
      '|---|---|---|---|',
      ...pages.map(({ label, summary }) => `| ${label} | ${fmt(summary.p50)} | ${fmt(summary.p95)} | ${fmt(summary.max)} |`),
      '',
      `**CSV** of every session stored (Accept: text/csv): ${csv.rows.toLocaleString('en')} rows in ${fmt(csv.seconds)} s, the first byte after ${fmt(csv.firstByteMs)} ms; peak resident memory of the gateway ${fmt(csv.gatewayPeak)} MiB (${fmt(csv.baseline[0] ?? Number.NaN)} before) and of session-reporting ${fmt(csv.reportingPeak)} MiB (${fmt(csv.baseline[1] ?? Number.NaN)} before): they grew by ${fmt(csv.gatewayPeak - (csv.baseline[0] ?? 0))} and ${fmt(csv.reportingPeak - (csv.baseline[1] ?? 0))} MiB for the whole export. Every service ran with its V8 heap bounded to ${HEAP_MB} MiB (\`--max-old-space-size\`): the export, one 5,000-row page held at a time, fits in it however many rows it has.`,
      '',
      'The plans of these queries, as the service sends them (EXPLAIN ANALYZE on this store; each statement its scans and execution time):',
      '',
      ...plans.flatMap((p) => [
        `- ${p.label}:`,
        ...p.statements.map((st) => `  - ${[...new Set(st.scans)].join(', ')} (${fmt(st.ms)} ms)`),
      ]),
      '',
      "The summary reads the whole UTC days of a range from the rollups (ADR 20: `pk_report_session_day`, `pk_report_event_day`, `pk_report_value` over day, dekad, month and year buckets, most of a year as the year less its buckets outside the range) and the partial days at either end from the raw tables' indexes; `apps/session-reporting/test/report-plans.int-spec.ts` asserts on 200,000 sessions that a week's, half a year's and eleven months' summary with partial days at both ends, a rare prefix filter, and the grid pages, deep ones included, read index ranges only. A grid whose filter matches (nearly) the whole table is read sequentially when the planner finds that cheaper, as it should.",
    );
  } finally {
    await pg.end();
    await system.stop();
    await db.drop();
    await clearNamespaceKeys(namespace);
    await deleteNamespaceStreams(namespace);
  }
  const text = lines.join('\n');
  process.stdout.write(`\n${text}\n`);
  mkdirSync('docs/bench', { recursive: true });
  writeFileSync('docs/bench/reporting.md', `${text}\n`);
}
