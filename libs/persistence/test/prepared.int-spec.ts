import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { prepared, type PreparedStatement } from '../src/prepared';

/**
 * A database of this test's own (libs/testing depends on this library, so its helper is not used here).
 */
async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = process.env['TEST_PG_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `openecm_prepared_${randomBytes(3).toString('hex')}`;
  const run = async (sql: string) => {
    const client = new Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`CREATE DATABASE "${name}"`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

/** The statements the one connection of `db` holds prepared, by name. */
async function preparedOn(db: DataSource): Promise<string[]> {
  const rows: Array<{ name: string }> = await db.query('SELECT name FROM pg_prepared_statements ORDER BY name');
  return rows.map((r) => r.name);
}

describe('prepared statements', () => {
  let database: { url: string; drop: () => Promise<void> };
  let db: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    // one connection, so what it holds prepared is what the next statement finds
    db = await new DataSource({ type: 'postgres', url: database.url, poolSize: 1 }).initialize();
    await db.query('CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL)');
    await db.query("INSERT INTO item VALUES (1, 'one'), (2, 'two')");
  });

  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('is parsed once per connection and answers its rows on every run', async () => {
    const byId = prepared('test.item_by_id', 'SELECT id, name FROM item WHERE id = $1');
    expect(await byId.run(db, [1])).toEqual([{ id: 1, name: 'one' }]);
    expect(await preparedOn(db)).toContain(byId.name);
    expect(await byId.run(db, [2])).toEqual([{ id: 2, name: 'two' }]);
    expect(await byId.run(db, [3])).toEqual([]);
    // a name stands for one text in a process
    expect(prepared('test.item_by_id', 'SELECT id, name FROM item WHERE id = $1').name).toBe('test.item_by_id');
    expect(() => prepared('test.item_by_id', 'SELECT name FROM item WHERE id = $1')).toThrow(/declared twice with different texts/);
    expect(() => prepared('Item By Id', 'SELECT 1')).toThrow(/name Item By Id/);
  });

  it('runs inside the transaction it is given', async () => {
    const insert = prepared('test.insert_item', 'INSERT INTO item (id, name) VALUES ($1, $2)');
    await expect(
      db.transaction(async (manager) => {
        await insert.run(manager, [10, 'ten']);
        expect(await manager.query('SELECT name FROM item WHERE id = 10')).toEqual([{ name: 'ten' }]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await db.query('SELECT name FROM item WHERE id = 10')).toEqual([]);
  });

  it("still answers once a migration changed what it answers, run unprepared from then on", async () => {
    const all = prepared('test.all_of_item', 'SELECT * FROM item WHERE id = $1');
    expect(await all.run(db, [1])).toEqual([{ id: 1, name: 'one' }]);
    await db.query('ALTER TABLE item ADD COLUMN note text');
    expect(await all.run(db, [1])).toEqual([{ id: 1, name: 'one', note: null }]);
    expect(await all.run(db, [2])).toEqual([{ id: 2, name: 'two', note: null }]);
    await db.query('ALTER TABLE item DROP COLUMN note');
  });

  it('fails as the statement would, with the database error', async () => {
    const broken = prepared('test.insert_item', 'INSERT INTO item (id, name) VALUES ($1, $2)');
    await expect(broken.run(db, [1, 'again'])).rejects.toMatchObject({ driverError: expect.objectContaining({ code: '23505' }) });
  });

  it('sends the text each time with DATABASE_PREPARED_STATEMENTS=false', async () => {
    const previous = process.env['DATABASE_PREPARED_STATEMENTS'];
    process.env['DATABASE_PREPARED_STATEMENTS'] = 'false';
    try {
      let statement: PreparedStatement | undefined;
      jest.isolateModules(() => {
        const fresh = jest.requireActual<typeof import('../src/prepared')>('../src/prepared');
        statement = fresh.prepared('test.name_of_item', 'SELECT name FROM item WHERE id = $1 AND name IS NOT NULL');
      });
      expect(await statement?.run(db, [2])).toEqual([{ name: 'two' }]);
      expect(await preparedOn(db)).not.toContain(statement?.name);
    } finally {
      if (previous === undefined) delete process.env['DATABASE_PREPARED_STATEMENTS'];
      else process.env['DATABASE_PREPARED_STATEMENTS'] = previous;
    }
  });
});
