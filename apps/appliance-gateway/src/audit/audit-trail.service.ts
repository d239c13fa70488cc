import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { auditConfig, loadConfig } from '@openecm/config';
import type { AuditExportQuery, AuditKind, AuditPage, AuditQuery, AuditRecord, AuditVerification } from '@openecm/contracts';
import { GroupCommit, prepared } from '@openecm/persistence';
import { currentTraceId } from '@openecm/telemetry';
import { DataSource } from 'typeorm';
import { SignInEvents } from '../oauth/sign-in-events';
import { ChainKeys, ChainWalker, type ChainedFields } from './audit-chain';

/** What a caller tells about one use; the time, seq and trace id are added here. Never a secret. */
export interface AuditEntry {
  kind: AuditKind;
  actor: string | null;
  user?: string | null;
  endpoint?: string | null;
  vault?: string | null;
  credential?: string | null;
  leaseId?: string | null;
  outcome: string;
  details?: Record<string, unknown>;
}

interface RecordRow {
  seq: string;
  at: Date;
  kind: AuditKind;
  actor: string | null;
  user_name: string | null;
  endpoint: string | null;
  vault: string | null;
  credential: string | null;
  lease_id: string | null;
  outcome: string;
  trace_id: string | null;
  details: Record<string, unknown>;
  position: string | null;
  key_id: string | null;
  prev_hmac: string | null;
  hmac: string | null;
}

/** Values of one record, and records in one insert at most. */
const RECORD_FIELDS = 12;

/** Every request's record, and every lease event's: a group of any size in one statement. */
const INSERT_RECORDS = prepared(
  'audit.insert_records',
  `INSERT INTO audit.record (at, kind, actor, user_name, endpoint, vault, credential, lease_id, outcome, trace_id, details, event_id)
   SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                        $9::text[], $10::text[], $11::jsonb[], $12::text[])
   ON CONFLICT (event_id) DO NOTHING`,
);
const RECORDS_PER_INSERT = 500;

const COLUMNS = 'seq, at, kind, actor, user_name, endpoint, vault, credential, lease_id, outcome, trace_id, details, position, key_id, prev_hmac, hmac';
const CHAIN_BATCH = 500;
/** With nothing written here, every this many rounds one runs anyway (10 s at the default interval). */
const IDLE_ROUNDS = 20;
const WALK_BATCH = 2000;
/** Records left unlinked this long mean no chainer runs: a verification says so. */
const UNCHAINED_GRACE_MS = 30_000;

function fields(row: RecordRow): ChainedFields {
  return {
    seq: row.seq,
    at: row.at.toISOString(),
    kind: row.kind,
    actor: row.actor,
    user: row.user_name,
    endpoint: row.endpoint,
    vault: row.vault,
    credential: row.credential,
    leaseId: row.lease_id,
    outcome: row.outcome,
    traceId: row.trace_id,
    details: row.details,
  };
}

const view = (row: RecordRow): AuditRecord => ({ ...fields(row), chained: row.position !== null });

/**
 * The audit trail: each record is inserted in the request it describes, before the answer leaves, and a chainer
 * (one at a time across every instance, by a Postgres advisory lock) links what was written into the HMAC chain
 * in seq order, so the request path pays for one insert only.
 */
@Injectable()
export class AuditTrail implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('audit');
  private readonly config = loadConfig(auditConfig);
  private readonly keys = this.config.AUDIT_HMAC_KEYS ? ChainKeys.parse(this.config.AUDIT_HMAC_KEYS) : undefined;
  private timer: NodeJS.Timeout | undefined;
  private chaining: Promise<number> | undefined;
  /** Whether this instance committed records since its last chaining round began. */
  private unchained = false;
  /** Rounds since the last one that ran (see `onRound`). */
  private skipped = 0;
  /** Whether the last chaining found another instance holding the chain's lock. */
  private lockedOut = false;
  /** Records waiting for an insert, and the insert running (one at a time in each instance). */
  private readonly inserts = new GroupCommit<unknown[]>((group) => this.insert(group), RECORDS_PER_INSERT);

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    private readonly signIns: SignInEvents,
  ) {}

  onModuleInit(): void {
    this.signIns.onFailure((failure) =>
      this.record({ kind: 'sign-in.failed', actor: failure.clientId, outcome: 'UNAUTHENTICATED', details: { address: failure.address, reason: failure.reason } }),
    );
    if (!this.keys) this.logger.warn({ event: 'audit.unchained', msg: 'AUDIT_HMAC_KEYS is not set: audit records are written but not chained' });
  }

  onApplicationBootstrap(): void {
    if (!this.keys) return;
    this.timer = setInterval(() => this.onRound(), this.config.AUDIT_CHAIN_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.inserts.idle();
    await this.chaining?.catch(() => undefined);
  }

  /**
   * Commits one record; resolves only once it is in the database. `eventId` names the event it records (a
   * stream sequence), so a redelivered event is recorded once.
   *
   * Records are committed in groups: one that comes while no insert is running is inserted at once, and those
   * that come while one runs go together in the next. A record waits for at most one insert before its own,
   * and under load a commit carries many records, not one each.
   */
  record(entry: AuditEntry, eventId?: string): Promise<void> {
    entry = storable(entry);
    const values = [
      new Date(),
      entry.kind,
      entry.actor,
      entry.user ?? null,
      entry.endpoint ?? null,
      entry.vault ?? null,
      entry.credential ?? null,
      entry.leaseId ?? null,
      entry.outcome,
      currentTraceId() ?? null,
      JSON.stringify(entry.details ?? {}),
      eventId ?? null,
    ];
    return this.inserts.submit(values);
  }

  private async insert(group: unknown[][]): Promise<void[]> {
    // one array per column, so the statement's text is the same for a group of any size
    await INSERT_RECORDS.run(this.db, Array.from({ length: RECORD_FIELDS }, (_, k) => group.map((values) => values[k])));
    this.unchained = true;
    return group.map(() => undefined);
  }

  /**
   * A round of the timer chains what this instance wrote since the last one. With nothing written here it runs
   * every IDLE_ROUNDS-th round only: for the records of an instance that stopped before it chained them. A
   * round is a transaction of five statements; an idle gateway ran two a second for nothing (85 ms of CPU a
   * second, on a slow draw of the bench machine).
   */
  private onRound(): void {
    // a round still running may have read its rows before this instance's last commit: the next one takes them
    if (this.chaining) return;
    if (!this.unchained && ++this.skipped < IDLE_ROUNDS) return;
    this.skipped = 0;
    this.unchained = false;
    this.chainNow().then(
      () => {
        // another instance held the chain: what it read before this instance's commit is this one's to link
        if (this.lockedOut) this.unchained = true;
      },
      (error: unknown) => {
        // what was not linked is tried again by the next round
        this.unchained = true;
        this.logger.warn({ event: 'audit.chain', err: error instanceof Error ? error.message : String(error), msg: 'chaining failed; retried' });
      },
    );
  }

  /** Links every record written so far, unless another instance is at it; answers how many it linked. */
  chainNow(): Promise<number> {
    if (!this.keys) return Promise.resolve(0);
    this.chaining ??= this.chainAll(this.keys).finally(() => (this.chaining = undefined));
    return this.chaining;
  }

  private async chainAll(keys: ChainKeys): Promise<number> {
    let linked = 0;
    for (;;) {
      const batch = await this.chainBatch(keys);
      linked += batch;
      if (batch < CHAIN_BATCH) return linked;
    }
  }

  private async chainBatch(keys: ChainKeys): Promise<number> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const [lock] = (await runner.query("SELECT pg_try_advisory_xact_lock(hashtext('openecm audit chain')) AS locked")) as Array<{ locked: boolean }>;
      this.lockedOut = !lock?.locked;
      if (!lock?.locked) {
        await runner.rollbackTransaction();
        return 0;
      }
      const [head] = (await runner.query('SELECT position, hmac FROM audit.record WHERE position IS NOT NULL ORDER BY position DESC LIMIT 1')) as Array<{ position: string; hmac: string }>;
      const rows = (await runner.query(`SELECT ${COLUMNS} FROM audit.record WHERE position IS NULL ORDER BY seq LIMIT ${CHAIN_BATCH}`)) as RecordRow[];
      let position = BigInt(head?.position ?? 0);
      let prev = head?.hmac ?? '';
      const links = rows.map((row) => {
        position += 1n;
        const hmac = keys.link(keys.activeId, prev, fields(row));
        const link = { seq: row.seq, position: position.toString(), prev, hmac };
        prev = hmac;
        return link;
      });
      if (links.length > 0) {
        await runner.query(
          `UPDATE audit.record r SET position = l.position, key_id = $5, prev_hmac = l.prev, hmac = l.hmac
           FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS l(seq, position, prev, hmac) WHERE r.seq = l.seq`,
          [links.map((l) => l.seq), links.map((l) => l.position), links.map((l) => l.prev), links.map((l) => l.hmac), keys.activeId],
        );
      }
      await runner.commitTransaction();
      return links.length;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }

  /** Walks the whole chain in its order and answers the first place it does not hold. */
  async verify(): Promise<AuditVerification> {
    const [pending] = (await this.db.query(
      'SELECT count(*)::int AS n, min(seq)::text AS first, bool_or(at < $1) AS stale FROM audit.record WHERE position IS NULL',
      [new Date(Date.now() - UNCHAINED_GRACE_MS)],
    )) as Array<{ n: number; first: string | null; stale: boolean | null }>;
    const unchained = pending?.n ?? 0;
    if (!this.keys) {
      return {
        ok: false,
        checked: 0,
        unchained,
        firstProblem: { problem: 'unchained', seq: pending?.first ?? '0', position: null, detail: 'AUDIT_HMAC_KEYS is not set: nothing is chained' },
      };
    }
    const walker = new ChainWalker(this.keys);
    for (;;) {
      const rows = (await this.db.query(`SELECT ${COLUMNS} FROM audit.record WHERE position > $1 ORDER BY position LIMIT ${WALK_BATCH}`, [
        walker.position,
      ])) as RecordRow[];
      for (const row of rows) {
        const problem = walker.next({ record: fields(row), position: row.position ?? '0', keyId: row.key_id ?? '', prevHmac: row.prev_hmac ?? '', hmac: row.hmac ?? '' });
        if (problem) return { ok: false, checked: walker.checked, unchained, firstProblem: problem };
      }
      if (rows.length < WALK_BATCH) break;
    }
    if (pending?.stale) {
      return {
        ok: false,
        checked: walker.checked,
        unchained,
        firstProblem: { problem: 'unchained', seq: pending.first ?? '0', position: null, detail: `records older than ${UNCHAINED_GRACE_MS / 1000} s are not chained: is a gateway instance running with AUDIT_HMAC_KEYS?` },
      };
    }
    return { ok: true, checked: walker.checked, unchained };
  }

  /** Newest first, keyset-paged by seq. */
  async query(query: AuditQuery): Promise<AuditPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (query.from) add('at >= ?', new Date(query.from));
    if (query.to) add('at < ?', new Date(query.to));
    if (query.kind) add('kind = ?', query.kind);
    if (query.user) add('lower(user_name) = lower(?)', query.user);
    if (query.cursor) add('seq < ?', query.cursor);
    const rows = (await this.db.query(
      `SELECT ${COLUMNS} FROM audit.record ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ${query.limit + 1}`,
      params,
    )) as RecordRow[];
    const page = rows.slice(0, query.limit);
    return { records: page.map(view), nextCursor: rows.length > query.limit ? (page.at(-1)?.seq ?? null) : null };
  }

  /** Oldest first, in batches, for a SIEM. */
  async *export(query: AuditExportQuery): AsyncGenerator<AuditRecord> {
    let after = '0';
    for (;;) {
      const params: unknown[] = [after];
      let sql = `SELECT ${COLUMNS} FROM audit.record WHERE seq > $1`;
      if (query.from) sql += ` AND at >= $${params.push(new Date(query.from))}`;
      if (query.to) sql += ` AND at < $${params.push(new Date(query.to))}`;
      const rows = (await this.db.query(`${sql} ORDER BY seq LIMIT ${WALK_BATCH}`, params)) as RecordRow[];
      for (const row of rows) yield view(row);
      if (rows.length < WALK_BATCH) return;
      after = rows.at(-1)?.seq ?? after;
    }
  }
}

/**
 * PostgreSQL refuses U+0000 in text and jsonb, and a hostile call is exactly what carries one: a record that
 * could not be written would let a NUL hide a call from the audit. Each NUL becomes U+2400 (the visible
 * symbol for NUL), in every string, keys of the details included.
 */
export function storable<T>(value: T): T {
  if (typeof value === 'string') return value.replaceAll('\u0000', '\u2400') as T;
  if (Array.isArray(value)) return value.map((v: unknown) => storable(v)) as T;
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k), storable(v)])) as T;
  }
  return value;
}
