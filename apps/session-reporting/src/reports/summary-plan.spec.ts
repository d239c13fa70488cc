import { summaryPlan } from './summary-plan';

const plan = (from: string, to: string) => summaryPlan(new Date(from), new Date(to));
const edges = (from: string, to: string) => plan(from, to).edges.map((e) => [e.from.toISOString(), e.to.toISOString()]);

describe('a summary range as rollup buckets and raw edges', () => {
  it('reads a range within one day, or no whole day, from the raw tables alone', () => {
    expect(plan('2026-06-10T01:00:00Z', '2026-06-10T17:00:00Z')).toEqual({ edges: [{ from: new Date('2026-06-10T01:00:00Z'), to: new Date('2026-06-10T17:00:00Z') }], days: null, buckets: [] });
    expect(plan('2026-06-10T01:00:00Z', '2026-06-11T17:00:00Z').days).toBeNull();
    expect(plan('2026-06-10T01:00:00Z', '2026-06-10T01:00:00Z')).toEqual({ edges: [], days: null, buckets: [] });
  });

  it('reads the partial days at both ends raw and the whole days between from the rollups', () => {
    expect(edges('2026-06-10T01:00:00Z', '2026-06-12T17:00:00Z')).toEqual([
      ['2026-06-10T01:00:00.000Z', '2026-06-11T00:00:00.000Z'],
      ['2026-06-12T00:00:00.000Z', '2026-06-12T17:00:00.000Z'],
    ]);
    expect(plan('2026-06-10T01:00:00Z', '2026-06-12T17:00:00Z')).toMatchObject({ days: { from: '2026-06-11', to: '2026-06-12' }, buckets: [{ grain: 'd', from: '2026-06-11', to: '2026-06-12' }] });
    expect(plan('2026-06-01T00:00:00Z', '2026-06-02T00:00:00Z')).toMatchObject({ edges: [], buckets: [{ grain: 'd', from: '2026-06-01', to: '2026-06-02' }] });
  });

  it('takes whole months and whole years as one bucket each', () => {
    expect(plan('2026-06-01T00:00:00Z', '2026-07-01T00:00:00Z').buckets).toEqual([{ grain: 'm', from: '2026-06-01', to: '2026-07-01' }]);
    expect(plan('2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z').buckets).toEqual([{ grain: 'y', from: '2026-01-01', to: '2027-01-01' }]);
    expect(plan('2026-01-15T00:00:00Z', '2026-02-10T00:00:00Z').buckets).toEqual([{ grain: 'd', from: '2026-01-15', to: '2026-02-10' }]);
    expect(plan('2025-11-20T08:00:00Z', '2028-02-03T12:00:00Z').buckets).toEqual([
      { grain: 'd', from: '2025-11-21', to: '2025-12-01' },
      { grain: 'm', from: '2025-12-01', to: '2026-01-01' },
      { grain: 'y', from: '2026-01-01', to: '2028-01-01' },
      { grain: 'm', from: '2028-01-01', to: '2028-02-01' },
      { grain: 'd', from: '2028-02-01', to: '2028-02-03' },
    ]);
    expect(plan('2026-03-05T00:00:00Z', '2026-11-20T00:00:00Z').buckets).toEqual([
      { grain: 'd', from: '2026-03-05', to: '2026-04-01' },
      { grain: 'm', from: '2026-04-01', to: '2026-11-01' },
      { grain: 'd', from: '2026-11-01', to: '2026-11-20' },
    ]);
  });
});
