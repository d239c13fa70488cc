import { isDependencyOutage } from './outage';

describe('isDependencyOutage', () => {
  it('recognises a database or cache out of reach, however it is wrapped', () => {
    expect(isDependencyOutage(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDependencyOutage(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDependencyOutage(Object.assign(new Error('query failed'), { driverError: { code: '57P01' } }))).toBe(true);
    expect(isDependencyOutage(Object.assign(new Error('x'), { name: 'MaxRetriesPerRequestError' }))).toBe(true);
    expect(isDependencyOutage(new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })]))).toBe(true);
    expect(isDependencyOutage(new Error('wrapper', { cause: new Error('Connection is closed.') }))).toBe(true);
  });

  it('leaves every other failure alone', () => {
    expect(isDependencyOutage(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
    expect(isDependencyOutage(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isDependencyOutage(undefined)).toBe(false);
    expect(isDependencyOutage('ECONNREFUSED')).toBe(false);
  });
});
