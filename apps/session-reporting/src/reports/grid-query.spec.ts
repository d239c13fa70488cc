import { OpenEcmError } from '@openecm/contracts';
import { encodeCursor, gridSql, likePrefix, type GridColumns } from './grid-query';

const columns: GridColumns = {
  id: { sql: 'id', kind: 'integer', nullable: false },
  user: { sql: 'user_name', kind: 'text', nullable: true },
  startTime: { sql: 'start_time', kind: 'time', nullable: false },
};

describe('grid queries', () => {
  it('binds every filter as a parameter, a prefix with its LIKE characters escaped', () => {
    const sql = gridSql(columns, { user: "o'brien", 'user.prefix': '50%_a\\', 'startTime.from': '2026-01-01T00:00:00Z', 'id.to': 9, sort: 'id' }, 'id');
    expect(sql.where).toEqual(['id <= $1::bigint', 'user_name = $2::text', 'user_name LIKE $3::text', 'start_time >= $4::timestamptz']);
    expect(sql.params).toEqual(['9', "o'brien", '50\\%\\_a\\\\%', '2026-01-01T00:00:00Z']);
    expect(likePrefix('a_b')).toBe('a\\_b%');
  });

  it('pages by keyset on (column, id), ascending with NULLs last and descending with NULLs first', () => {
    expect(gridSql(columns, { sort: 'user', cursor: encodeCursor('bob', '7') }, 'id').where).toEqual(['((user_name, id) > ($2::text, $1::bigint) OR user_name IS NULL)']);
    expect(gridSql(columns, { sort: 'user', cursor: encodeCursor(null, '7') }, 'id').where).toEqual(['(user_name IS NULL AND id > $1::bigint)']);
    expect(gridSql(columns, { sort: '-user', cursor: encodeCursor(null, '7') }, 'id').where).toEqual(['((user_name IS NULL AND id < $1::bigint) OR user_name IS NOT NULL)']);
    expect(gridSql(columns, { sort: '-startTime', cursor: encodeCursor('2026-01-01 00:00:00+00', '7') }, 'id')).toMatchObject({
      where: ['(start_time, id) < ($2::timestamptz, $1::bigint)'],
      orderBy: 'start_time DESC, id DESC',
    });
  });

  it('refuses a cursor it did not make, naming the field', () => {
    for (const cursor of ['bm9wZQ', encodeCursor('x', 'drop table'), Buffer.from('[1,2,3]').toString('base64url')]) {
      expect(() => gridSql(columns, { sort: 'id', cursor }, 'id')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', fields: [{ field: 'cursor', message: expect.any(String) }] }) as OpenEcmError);
    }
  });
});
