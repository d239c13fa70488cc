import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { OpenEcmError } from '@openecm/contracts';
import { metricsRegistry } from '@openecm/telemetry';
import { bullConnection, bullPrefix } from '@openecm/service-kit';
import { Queue, Worker, type Job } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import { SessionEventsService } from '../sessions/session-events.service';
import { nextResumePoint, readAccessSessionReport } from './access-session-report';
import { ApplianceCallError } from './appliance-client';
import { ApplianceConnections } from './appliance-connection.service';

export const REPORT_POLL_QUEUE = 'report-poll';
export const REPORT_POLL_JOB = 'poll';
interface PollJob {
  connection: string;
}

/** How long saving a connection waits for its schedule before answering (Redis away: the schedule follows). */
const SCHEDULE_WAIT_MS = 5000;

/** Events are written a batch at a time, as the appliance's batch call does. */
const WRITE_BATCH = 1000;

const polls = new Counter({
  name: 'openecm_session_reporting_polls_total',
  help: "Polls of the appliance's reporting API, by outcome (ok, failed, busy: another instance was polling)",
  labelNames: ['outcome'],
  registers: [metricsRegistry],
});

export type PollOutcome = { outcome: 'ok'; sessions: number; stored: number; resumeFrom: number } | { outcome: 'busy' | 'not-configured' } | { outcome: 'failed'; error: string };

/**
 * Polls the appliance's AccessSession report on a BullMQ job scheduler per connection (one job per interval
 * whichever instances run), from the resume point kept in `report_poll`, so an instance that was down, or all of
 * them, catch up from where the last poll stored. A poll holds a PostgreSQL advisory lock for its connection, so
 * two polls never run at once; an event read twice is stored once anyway (its key).
 */
@Injectable()
export class ReportPollProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReportPollProcessor.name);
  private readonly queue = new Queue<PollJob>(REPORT_POLL_QUEUE, { connection: bullConnection(), prefix: bullPrefix(), telemetry: new BullMQOtel({ tracerName: 'session-reporting' }) });
  private worker?: Worker<PollJob>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly connections: ApplianceConnections,
    private readonly sessions: SessionEventsService,
  ) {
    this.queue.on('error', (error) => this.logger.warn({ msg: 'report poll queue connection error', err: error.name }));
    connections.onChange((name) => this.scheduleSoon(name));
  }

  async onApplicationBootstrap(): Promise<void> {
    this.worker = new Worker<PollJob>(REPORT_POLL_QUEUE, (job) => this.process(job), {
      connection: bullConnection(),
      prefix: bullPrefix(),
      telemetry: new BullMQOtel({ tracerName: 'session-reporting' }),
      concurrency: 1,
    });
    this.worker.on('error', (error) => this.logger.warn({ msg: 'report poll worker connection error', err: error.name }));
    // not awaited: with Redis out of reach at start, the reports and the appliance's batches are served all the same,
    // and the schedule is made when Redis answers (BullMQ's commands wait for the reconnect)
    void this.connections
      .names()
      .then((names) => Promise.all(names.map((name) => this.scheduleSoon(name))))
      .catch((error: Error) => this.logger.warn({ msg: 'report polls not scheduled at start', err: error.name }));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }

  /** Schedules, waiting at most SCHEDULE_WAIT_MS for Redis; the schedule is made later when it answers later. */
  private async scheduleSoon(name: string): Promise<void> {
    const scheduled = this.schedule(name).catch((error: Error) => this.logger.warn({ msg: 'report poll not scheduled', connection: name, err: error.name }));
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), SCHEDULE_WAIT_MS)));
    if ((await Promise.race([scheduled, waited])) === 'late') this.logger.warn({ msg: 'report poll scheduled once Redis answers', connection: name });
    clearTimeout(timer);
  }

  /** One repeatable job per connection, every pollIntervalSeconds; saving the connection again moves it. */
  async schedule(name: string): Promise<void> {
    const interval = await this.connections.pollInterval(name);
    if (interval === null) return;
    await this.queue.upsertJobScheduler(`${REPORT_POLL_QUEUE}:${name}`, { every: interval * 1000 }, {
      name: REPORT_POLL_JOB,
      data: { connection: name },
      opts: { removeOnComplete: true, removeOnFail: 100, attempts: 1 },
    });
  }

  private async process(job: Job<PollJob>): Promise<void> {
    if (job.name !== REPORT_POLL_JOB) throw new Error(`no handler for job ${job.name}`);
    await this.poll(job.data.connection);
  }

  /** One poll of one connection; what the job runs, and what an operator (or a test) may run now. */
  async poll(name: string): Promise<PollOutcome> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = (await runner.query(`SELECT pg_try_advisory_lock(hashtext('openecm.report_poll'), hashtext($1)) AS locked`, [name])) as [{ locked: boolean }];
      if (!locked) {
        polls.inc({ outcome: 'busy' });
        return { outcome: 'busy' };
      }
      try {
        return await this.pollLocked(name);
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(hashtext('openecm.report_poll'), hashtext($1))`, [name]);
      }
    } finally {
      await runner.release();
    }
  }

  private async pollLocked(name: string): Promise<PollOutcome> {
    const [row] = (await this.dataSource.query(`SELECT "resume_from" FROM "reporting"."report_poll" WHERE "connection" = $1`, [name])) as Array<{ resume_from: string }>;
    if (!row) return { outcome: 'not-configured' };
    const from = Number(row.resume_from);
    let open: Awaited<ReturnType<ApplianceConnections['open']>> = null;
    try {
      open = await this.connections.open(name);
      if (!open) return { outcome: 'not-configured' };
      const xml = await open.client.accessSessions(from);
      const reported = readAccessSessionReport(xml, new URL(open.url).hostname);
      const records = reported.flatMap((s) => s.events);
      let stored = 0;
      for (let i = 0; i < records.length; i += WRITE_BATCH) stored += (await this.sessions.recordMany(records.slice(i, i + WRITE_BATCH))).stored;
      const resumeFrom = nextResumePoint(from, reported);
      // stored before the resume point moves: a crash in between reads the same report again, which stores nothing twice
      await this.dataSource.query(
        `UPDATE "reporting"."report_poll" SET "resume_from" = $2, "last_polled_at" = now(), "last_error" = NULL,
                "sessions_stored" = "sessions_stored" + $3 WHERE "connection" = $1`,
        [name, resumeFrom, reported.filter((s) => s.events.length > 0).length],
      );
      polls.inc({ outcome: 'ok' });
      return { outcome: 'ok', sessions: reported.length, stored, resumeFrom };
    } catch (error) {
      // the message names the step and the status or error code, never a URL, token or secret
      const message =
        error instanceof ApplianceCallError
          ? error.message
          : error instanceof OpenEcmError
            ? `keys: ${error.message}`
            : `report: ${(error as Error).name}: ${(error as Error).message}`.slice(0, 500);
      await this.dataSource.query(`UPDATE "reporting"."report_poll" SET "last_polled_at" = now(), "last_error" = $2 WHERE "connection" = $1`, [name, message]);
      polls.inc({ outcome: 'failed' });
      this.logger.warn({ msg: 'appliance report poll failed', connection: name, error: message });
      return { outcome: 'failed', error: message };
    } finally {
      await open?.client.close();
    }
  }
}
