/**
 * For `npm run bench`'s session-reporting figures: runs the report queries the bench timed through the service's
 * own code (a session-reporting app on the bench's database, in a namespace of its own so it answers no bench
 * request), records each SQL statement it sends, and prints their plans (EXPLAIN ANALYZE) as JSON on stdout.
 * Started as a process by tools/bench with DATABASE_URL, NATS_URL and OPENECM_NAMESPACE set; argv[2] is the JSON
 * list of `{label, kind: 'summary' | 'sessions' | 'events', query}` (queries as the HTTP API takes them).
 */
import { NestFactory } from '@nestjs/core';
import { loadConfig, postgresConfig } from '@openecm/config';
import { EventsRequest, SessionsRequest, SummaryQuery } from '@openecm/contracts';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/app.module';
import { ReportsService } from '../src/reports/reports.service';

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

interface Wanted {
  label: string;
  kind: 'summary' | 'sessions' | 'events';
  query: Record<string, string>;
}

const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

async function main(): Promise<void> {
  const wanted = JSON.parse(process.argv[2] ?? '[]') as Wanted[];
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
  const pg = new Client({ connectionString: loadConfig(postgresConfig).DATABASE_URL });
  await pg.connect();
  const statements: Array<{ sql: string; params: unknown[] }> = [];
  const dataSource = app.get(DataSource);
  const query = dataSource.query.bind(dataSource);
  dataSource.query = (async (sql: string, params?: unknown[]) => {
    statements.push({ sql, params: params ?? [] });
    return query(sql, params);
  }) as typeof dataSource.query;
  const reports = app.get(ReportsService);
  const out: Array<{ label: string; statements: Array<{ scans: string[]; ms: number }> }> = [];
  try {
    for (const w of wanted) {
      statements.length = 0;
      if (w.kind === 'summary') await reports.summary(SummaryQuery.parse(w.query));
      else if (w.kind === 'sessions') await reports.sessions(SessionsRequest.parse(w.query));
      else await reports.events(EventsRequest.parse(w.query));
      const explained = [];
      for (const s of statements) {
        const { rows } = await pg.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number }> }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${s.sql}`, s.params);
        const [top] = rows[0]?.['QUERY PLAN'] ?? [];
        if (!top) continue;
        const scans = nodes(top.Plan)
          .filter((n) => n['Node Type'].includes('Scan'))
          .map((n) => `${n['Node Type']}${n['Index Name'] ? ` ${n['Index Name']}` : n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}`);
        explained.push({ scans, ms: top['Execution Time'] });
      }
      out.push({ label: w.label, statements: explained });
    }
  } finally {
    await pg.end();
    await app.close();
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
