import type { DataSource } from 'typeorm';
import type { SignInEvents } from '../oauth/sign-in-events';
import { AuditTrail } from './audit-trail.service';

/**
 * A database that holds each insert until the test lets it finish, and refuses the records it is told to. An
 * insert's parameters are one array per column, so its first holds one value per record.
 */
function heldDatabase(refuse: (values: unknown[]) => boolean = () => false) {
  const inserts: Array<{ rows: number; finish: () => void }> = [];
  const db = {
    query: (_statement: unknown, columns: unknown[][]) =>
      new Promise<void>((resolve, reject) => {
        const rows = columns[0]?.length ?? 0;
        const finish = () => (refuse(columns.flat()) ? reject(new Error('refused')) : resolve());
        inserts.push({ rows, finish });
      }),
  };
  return { db: db as unknown as DataSource, inserts };
}

const signIns = { onFailure: () => undefined } as unknown as SignInEvents;
const entry = (user: string) => ({ kind: 'credentials.list' as const, actor: 'appliance', user, outcome: 'ok' });
const settle = () => new Promise((r) => setImmediate(r));

describe('AuditTrail.record (group commit)', () => {
  it('inserts a lone record at once, and the records that come while it runs together in the next insert', async () => {
    const { db, inserts } = heldDatabase();
    const trail = new AuditTrail(db, signIns);
    const done: string[] = [];
    void trail.record(entry('first')).then(() => done.push('first'));
    await settle();
    expect(inserts.map((i) => i.rows)).toEqual([1]);
    for (const user of ['a', 'b', 'c']) void trail.record(entry(user)).then(() => done.push(user));
    await settle();
    // nothing resolves before its own insert committed
    expect(done).toEqual([]);
    inserts[0]?.finish();
    await settle();
    expect(done).toEqual(['first']);
    expect(inserts.map((i) => i.rows)).toEqual([1, 3]);
    inserts[1]?.finish();
    await settle();
    expect(done).toEqual(['first', 'a', 'b', 'c']);
    // idle again: the next record is inserted at once
    void trail.record(entry('later'));
    await settle();
    expect(inserts.map((i) => i.rows)).toEqual([1, 3, 1]);
  });

  it('fails only the record the database refuses, the others of its group are committed', async () => {
    const { db, inserts } = heldDatabase((values) => values.includes('bad'));
    const trail = new AuditTrail(db, signIns);
    void trail.record(entry('first'));
    await settle();
    const outcomes = ['ok-1', 'bad', 'ok-2'].map((user) =>
      trail.record(entry(user)).then(
        () => `${user} committed`,
        () => `${user} failed`,
      ),
    );
    await settle();
    inserts[0]?.finish();
    await settle();
    // the group of three is refused as a whole, then each record is tried alone
    inserts[1]?.finish();
    for (let i = 2; i < 5; i++) {
      await settle();
      inserts[i]?.finish();
    }
    expect(await Promise.all(outcomes)).toEqual(['ok-1 committed', 'bad failed', 'ok-2 committed']);
  });
});
