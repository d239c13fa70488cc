import { constantRate, pairedPrices, percentile, summarise } from './stats';

describe('bench statistics', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(500);
    expect(percentile(values, 95)).toBe(950);
    expect(percentile(values, 99)).toBe(990);
    expect(percentile(values, 99.9)).toBe(999);
    expect(summarise([3, 1, 2], 1)).toMatchObject({ count: 3, errors: 1, p50: 2, p95: 3, max: 3 });
  });

  it('fires at the asked rate and counts failures apart from latencies', async () => {
    let calls = 0;
    const summary = await constantRate(200, 0.25, async () => {
      calls += 1;
      return calls % 10 !== 0;
    });
    expect(calls).toBe(50);
    expect(summary.errors).toBe(5);
    expect(summary.count).toBe(45);
  });

  it("prices tracing round by round, each traced round against the untraced one beside it", () => {
    // the machine got faster over the rounds: each pair still shows a tenth
    const { each, median } = pairedPrices([450, 540, 630], [500, 600, 700]);
    expect(each.map((p) => Number(p.toFixed(3)))).toEqual([0.1, 0.1, 0.1]);
    expect(median).toBeCloseTo(0.1);
    // an even count takes the middle two; an untraced round of nothing is no price
    expect(pairedPrices([80, 90, 50, 100], [100, 100, 100, 100]).median).toBeCloseTo(0.15);
    expect(pairedPrices([10], [0]).each[0]).toBeNaN();
    expect(pairedPrices([10], [0]).median).toBeNaN();
  });
});
