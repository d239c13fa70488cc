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
    expect(plan('2026-06-10T01:00:00Z', '2026-06-12T17:00:00Z')).toMatchObject({ days: { from: '2026-06-11', to: '2026-06-12' }, buckets: [{ grain: 'd', from: '2026-06-11', to: '2026-06-12', sign: 1 }] });
    expect(plan('2026-06-01T00:00:00Z', '2026-06-02T00:00:00Z')).toMatchObject({ edges: [], buckets: [{ grain: 'd', from: '2026-06-01', to: '2026-06-02', sign: 1 }] });
  });

  it('takes whole months and whole years as one bucket each', () => {
    expect(plan('2026-06-01T00:00:00Z', '2026-07-01T00:00:00Z').buckets).toEqual([{ grain: 'm', from: '2026-06-01', to: '2026-07-01', sign: 1 }]);
    expect(plan('2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z').buckets).toEqual([{ grain: 'y', from: '2026-01-01', to: '2027-01-01', sign: 1 }]);
    expect(plan('2026-01-15T00:00:00Z', '2026-02-10T00:00:00Z').buckets).toEqual([
      { grain: 'd', from: '2026-01-15', to: '2026-01-21', sign: 1 },
      { grain: 'x', from: '2026-01-21', to: '2026-02-01', sign: 1 },
      { grain: 'd', from: '2026-02-01', to: '2026-02-10', sign: 1 },
    ]);
    expect(plan('2026-01-14T00:00:00Z', '2026-01-19T00:00:00Z').buckets).toEqual([{ grain: 'd', from: '2026-01-14', to: '2026-01-19', sign: 1 }]);
    expect(plan('2025-11-20T08:00:00Z', '2028-02-03T12:00:00Z').buckets).toEqual([
      { grain: 'x', from: '2025-11-21', to: '2025-12-01', sign: 1 },
      { grain: 'm', from: '2025-12-01', to: '2026-01-01', sign: 1 },
      { grain: 'y', from: '2026-01-01', to: '2028-01-01', sign: 1 },
      { grain: 'm', from: '2028-01-01', to: '2028-02-01', sign: 1 },
      { grain: 'd', from: '2028-02-01', to: '2028-02-03', sign: 1 },
    ]);
    expect(plan('2026-05-05T00:00:00Z', '2026-08-20T00:00:00Z').buckets).toEqual([
      { grain: 'd', from: '2026-05-05', to: '2026-05-11', sign: 1 },
      { grain: 'x', from: '2026-05-11', to: '2026-06-01', sign: 1 },
      { grain: 'm', from: '2026-06-01', to: '2026-08-01', sign: 1 },
      { grain: 'x', from: '2026-08-01', to: '2026-08-11', sign: 1 },
      { grain: 'd', from: '2026-08-11', to: '2026-08-20', sign: 1 },
    ]);
  });

  it('reads most of a year as the year less its days, dekads and months outside the range', () => {
    expect(plan('2026-01-15T06:00:00Z', '2026-12-16T18:00:00Z').buckets).toEqual([
      { grain: 'y', from: '2026-01-01', to: '2027-01-01', sign: 1 },
      { grain: 'x', from: '2026-01-01', to: '2026-01-11', sign: -1 },
      { grain: 'd', from: '2026-01-11', to: '2026-01-16', sign: -1 },
      { grain: 'd', from: '2026-12-16', to: '2026-12-21', sign: -1 },
      { grain: 'x', from: '2026-12-21', to: '2027-01-01', sign: -1 },
    ]);
    expect(plan('2026-03-05T00:00:00Z', '2026-11-20T00:00:00Z').buckets).toEqual([
      { grain: 'y', from: '2026-01-01', to: '2027-01-01', sign: 1 },
      { grain: 'm', from: '2026-01-01', to: '2026-03-01', sign: -1 },
      { grain: 'd', from: '2026-03-01', to: '2026-03-05', sign: -1 },
      { grain: 'd', from: '2026-11-20', to: '2026-11-21', sign: -1 },
      { grain: 'x', from: '2026-11-21', to: '2026-12-01', sign: -1 },
      { grain: 'm', from: '2026-12-01', to: '2027-01-01', sign: -1 },
    ]);
  });

  it('starts dekads on the 1st, the 11th and the 21st, the last one running to the month’s end', () => {
    expect(plan('2024-02-11T00:00:00Z', '2024-03-01T00:00:00Z').buckets).toEqual([{ grain: 'x', from: '2024-02-11', to: '2024-03-01', sign: 1 }]);
    expect(plan('2026-12-21T00:00:00Z', '2027-01-11T00:00:00Z').buckets).toEqual([{ grain: 'x', from: '2026-12-21', to: '2027-01-11', sign: 1 }]);
    expect(plan('2026-04-20T00:00:00Z', '2026-04-21T00:00:00Z').buckets).toEqual([{ grain: 'd', from: '2026-04-20', to: '2026-04-21', sign: 1 }]);
  });

  it('counts every whole day of any range exactly once, and no day outside it', () => {
    const DAY = 86_400_000;
    const start = Date.parse('2024-11-01T00:00:00Z');
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 400; i++) {
      const from = start + Math.floor(random() * 900) * DAY + Math.floor(random() * 3) * 3_600_000;
      const to = from + Math.floor(random() * 800) * DAY + Math.floor(random() * 3) * 3_600_000;
      const { days, buckets } = plan(new Date(from).toISOString(), new Date(to).toISOString());
      const counted = new Map<number, number>();
      for (const b of buckets) {
        // a dekad, month or year range starts and ends on that grain's first days
        const first = new Date(b.from).getUTCDate();
        if (b.grain === 'x') expect([1, 11, 21]).toContain(first);
        if (b.grain === 'm' || b.grain === 'y') expect(first).toBe(1);
        for (let d = Date.parse(b.from); d < Date.parse(b.to); d += DAY) counted.set(d, (counted.get(d) ?? 0) + b.sign);
      }
      const inside = [...counted].filter(([, n]) => n !== 0);
      expect(inside.every(([, n]) => n === 1)).toBe(true);
      const first = days ? Date.parse(days.from) : 0;
      const last = days ? Date.parse(days.to) : 0;
      expect(inside.map(([d]) => d).sort((x, y) => x - y)).toEqual(Array.from({ length: (last - first) / DAY }, (_, k) => first + k * DAY));
    }
  });
});
