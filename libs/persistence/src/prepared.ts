import { loadConfig, postgresConfig } from '@openecm/config';

/** What runs SQL: a DataSource, an EntityManager (a transaction's too) or a QueryRunner. */
export interface Queryable {
  query(query: string, parameters?: unknown[]): Promise<unknown>;
}

/**
 * A statement PostgreSQL parses and plans once per connection and then only executes: a statement of the
 * credential path, which runs with the same text on every call. Its name (`policy.insert_lease`) is what a trace
 * shows for the query (the pg instrumentation names a prepared statement's span by it), and one name has one text
 * in a process.
 *
 * Name the columns a statement answers (no `SELECT *` or `RETURNING *`): a migration that adds a column would
 * otherwise change the answer of a statement other instances hold prepared, and PostgreSQL refuses to run it
 * ("cached plan must not change result type"). Should that happen all the same, the statement is run unprepared
 * from then on in this process.
 */
export class PreparedStatement {
  /** Set once PostgreSQL refused the prepared form (see above); the text is sent each time from then on. */
  private unprepared = false;

  constructor(
    readonly name: string,
    readonly text: string,
  ) {
    if (!STATEMENT_NAME.test(name)) throw new Error(`prepared statement name ${name}: lower-case words joined by . or _`);
    const known = texts.get(name);
    if (known !== undefined && known !== text) throw new Error(`prepared statement ${name} is declared twice with different texts`);
    texts.set(name, text);
  }

  /** Runs the statement on `db` (inside the transaction `db` belongs to, if any) and answers its rows. */
  async run<Row>(db: Queryable, parameters: unknown[]): Promise<Row[]> {
    if (this.unprepared || !preparing()) return (await db.query(this.text, parameters)) as Row[];
    try {
      // pg takes a query config wherever it takes a text, and TypeORM hands it on as it is
      return (await db.query({ name: this.name, text: this.text } as unknown as string, parameters)) as Row[];
    } catch (error) {
      if (!isChangedResultType(error)) throw error;
      this.unprepared = true;
      return (await db.query(this.text, parameters)) as Row[];
    }
  }
}

const STATEMENT_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const texts = new Map<string, string>();

/** A statement of the credential path, prepared per connection unless DATABASE_PREPARED_STATEMENTS=false. */
export function prepared(name: string, text: string): PreparedStatement {
  return new PreparedStatement(name, text);
}

let preparedSetting: boolean | undefined;

/** DATABASE_PREPARED_STATEMENTS, read once: a pooler that cannot keep them (PgBouncer before 1.21) turns them off. */
function preparing(): boolean {
  preparedSetting ??= loadConfig(postgresConfig).DATABASE_PREPARED_STATEMENTS;
  return preparedSetting;
}

/** PostgreSQL's 0A000 with "cached plan must not change result type", through TypeORM's QueryFailedError or not. */
function isChangedResultType(error: unknown): boolean {
  const e = error as { code?: unknown; driverError?: { code?: unknown }; message?: unknown };
  const code = e.code ?? e.driverError?.code;
  return code === '0A000' && typeof e.message === 'string' && e.message.includes('cached plan must not change result type');
}
