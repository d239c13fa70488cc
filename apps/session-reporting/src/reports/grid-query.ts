import { OpenEcmError, type ColumnKind } from '@openecm/contracts';

/** A grid column: its SQL expression, its kind, and whether it can be NULL (which the keyset must allow for). */
export interface GridColumn {
  sql: string;
  kind: ColumnKind;
  nullable: boolean;
}

export type GridColumns = Readonly<Record<string, GridColumn>>;

export interface GridSql {
  where: string[];
  params: unknown[];
  orderBy: string;
  /** The sort column as text, selected beside each row to make the next cursor from. */
  sortKey: string;
}

const CAST: Record<ColumnKind, string> = { text: 'text', integer: 'bigint', time: 'timestamptz', boolean: 'boolean' };

/** `%`, `_` and `\` of a prefix match literally (backslash is LIKE's default escape). */
export function likePrefix(value: string): string {
  return `${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function encodeCursor(key: string | null, id: string): string {
  return Buffer.from(JSON.stringify([key, id]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): [string | null, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && (value[0] === null || typeof value[0] === 'string') && typeof value[1] === 'string' && /^\d{1,19}$/.test(value[1])) {
      return [value[0], value[1]];
    }
  } catch {
    // answered below
  }
  throw new OpenEcmError('VALIDATION_FAILED', "invalid query: cursor (not a cursor this grid gave)", [{ field: 'cursor', message: "the previous page's nextCursor" }]);
}

/**
 * Turns a parsed grid query into SQL: every filter a bound parameter, the sort with the id as tie-breaker, and the
 * cursor as a keyset condition on (sort column, id), so a page is one index range however deep it is. NULLs sort
 * last ascending and first descending (PostgreSQL's order, which a (column, id) index reads both ways).
 */
export function gridSql(columns: GridColumns, query: Record<string, unknown>, idSql: string): GridSql {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (value: unknown, cast: string) => {
    params.push(value);
    return `$${params.length}::${cast}`;
  };
  for (const [name, column] of Object.entries(columns)) {
    const cast = CAST[column.kind];
    const eq = query[name];
    if (eq !== undefined) where.push(`${column.sql} = ${p(column.kind === 'integer' ? String(eq) : eq, cast)}`);
    const prefix = query[`${name}.prefix`];
    if (prefix !== undefined) where.push(`${column.sql} LIKE ${p(likePrefix(String(prefix)), 'text')}`);
    const from = query[`${name}.from`];
    if (from !== undefined) where.push(`${column.sql} >= ${p(String(from), cast)}`);
    const to = query[`${name}.to`];
    // a time range is half-open, so consecutive ranges never count a row twice; an integer range is inclusive
    if (to !== undefined) where.push(`${column.sql} ${column.kind === 'time' ? '<' : '<='} ${p(String(to), cast)}`);
  }

  const sort = String(query['sort']);
  const descending = sort.startsWith('-');
  const column = columns[descending ? sort.slice(1) : sort];
  if (!column) throw new OpenEcmError('VALIDATION_FAILED', 'invalid query: sort (not a sortable column)', [{ field: 'sort', message: 'not a sortable column' }]);
  const cast = CAST[column.kind];
  const dir = descending ? 'DESC' : 'ASC';
  const cursor = query['cursor'];
  if (typeof cursor === 'string') {
    const [key, id] = decodeCursor(cursor);
    const op = descending ? '<' : '>';
    const idParam = p(id, 'bigint');
    if (key === null) {
      // in the NULLs: last ascending (only more NULLs follow), first descending (every value follows)
      where.push(descending ? `((${column.sql} IS NULL AND ${idSql} < ${idParam}) OR ${column.sql} IS NOT NULL)` : `(${column.sql} IS NULL AND ${idSql} > ${idParam})`);
    } else {
      const keyset = `(${column.sql}, ${idSql}) ${op} (${p(key, cast)}, ${idParam})`;
      where.push(column.nullable && !descending ? `(${keyset} OR ${column.sql} IS NULL)` : keyset);
    }
  }
  return { where, params, orderBy: `${column.sql} ${dir}, ${idSql} ${dir}`, sortKey: `(${column.sql})::text` };
}
