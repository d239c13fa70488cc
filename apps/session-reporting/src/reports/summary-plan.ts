const DAY = 86_400_000;

/** A half-open time range [from, to). */
export interface TimeRange {
  from: Date;
  to: Date;
}

/**
 * Rollup buckets of one grain, first days (UTC) as YYYY-MM-DD, half-open [from, to), added (`sign` 1) or taken away
 * (-1): a value's count over the range is the sum of its signed bucket counts.
 */
export interface BucketRange {
  /** A UTC day, a dekad (the 1st to the 10th, the 11th to the 20th, the 21st to the month's end), a month, a year. */
  grain: 'd' | 'x' | 'm' | 'y';
  from: string;
  to: string;
  sign: 1 | -1;
}

/**
 * How a summary range is answered: its whole UTC days from the rollups (`days`, and the same days as signed day,
 * dekad, month and year buckets in `buckets`), the partial days at either end (`edges`) from the raw tables.
 */
export interface SummaryPlan {
  edges: TimeRange[];
  days: { from: string; to: string } | null;
  buckets: BucketRange[];
}

const ymd = (t: number) => new Date(t).toISOString().slice(0, 10);
const monthStart = (t: number, add = 0) => {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1);
};
/** The first day of the dekad `t` falls in, or of the `add`th after it. */
const dekadStart = (t: number, add = 0) => {
  const d = new Date(t);
  const index = Math.min(2, Math.floor((d.getUTCDate() - 1) / 10)) + add;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + Math.floor(index / 3), 1 + 10 * (((index % 3) + 3) % 3));
};
const yearStart = (t: number, add = 0) => Date.UTC(new Date(t).getUTCFullYear() + add, 0, 1);
const ceilTo = (t: number, floor: (t: number, add?: number) => number) => (floor(t) === t ? t : floor(t, 1));

export function summaryPlan(from: Date, to: Date): SummaryPlan {
  const a = Math.ceil(from.getTime() / DAY) * DAY;
  const b = Math.floor(to.getTime() / DAY) * DAY;
  if (a >= b) return { edges: from < to ? [{ from, to }] : [], days: null, buckets: [] };
  const edges = [
    { from, to: new Date(a) },
    { from: new Date(b), to },
  ].filter((e) => e.from < e.to);
  return { edges, days: { from: ymd(a), to: ymd(b) }, buckets: signedBuckets(a, b) };
}

/**
 * Rows a bucket is expected to read, relative to a day's: a dekad, a month or a year holds each value once, and
 * most values of a dekad recur all month and year, so each costs a few days' rows.
 */
const WEIGHT: Record<BucketRange['grain'], number> = { d: 1, x: 4, m: 6, y: 8 };
const NEXT: Record<BucketRange['grain'], (t: number) => number> = {
  d: (t) => t + DAY,
  x: (t) => dekadStart(t, 1),
  m: (t) => monthStart(t, 1),
  y: (t) => yearStart(t, 1),
};
/** How many buckets a range holds. */
const spans = (b: BucketRange) => {
  let n = 0;
  for (let t = Date.parse(b.from); t < Date.parse(b.to); t = NEXT[b.grain](t)) n++;
  return n;
};
const cost = (list: readonly BucketRange[]) => list.reduce((sum, b) => sum + WEIGHT[b.grain] * spans(b), 0);

/**
 * Whole days [a, b), each calendar year's part the cheaper of its days, dekads and months taken directly, or the
 * whole year less those of it outside the range (eleven months and a half: the year less two weeks).
 * Adjacent buckets of one grain and sign are merged, so whole years between read as one range.
 */
function signedBuckets(a: number, b: number): BucketRange[] {
  const out: BucketRange[] = [];
  for (let year = yearStart(a); year < b; year = yearStart(year, 1)) {
    const next = yearStart(year, 1);
    const lo = Math.max(a, year);
    const hi = Math.min(b, next);
    const direct = buckets(lo, hi, 1);
    const complement = [{ grain: 'y' as const, from: ymd(year), to: ymd(next), sign: 1 as const }, ...buckets(year, lo, -1), ...buckets(hi, next, -1)];
    for (const bucket of cost(complement) < cost(direct) ? complement : direct) {
      const last = out[out.length - 1];
      if (last && last.grain === bucket.grain && last.sign === bucket.sign && last.to === bucket.from) last.to = bucket.to;
      else out.push(bucket);
    }
  }
  return out;
}

/** Whole days [a, b) as leading days, dekads and months, whole years, trailing months, dekads and days. */
function buckets(a: number, b: number, sign: 1 | -1): BucketRange[] {
  const out: BucketRange[] = [];
  const push = (grain: BucketRange['grain'], from: number, to: number) => {
    if (from < to) out.push({ grain, from: ymd(from), to: ymd(to), sign });
  };
  /** Days [from, to) with no whole month inside: leading days, whole dekads, trailing days. */
  const dekads = (from: number, to: number) => {
    const x1 = ceilTo(from, dekadStart);
    const x2 = dekadStart(to);
    if (x1 >= x2) return push('d', from, to);
    push('d', from, x1);
    push('x', x1, x2);
    push('d', x2, to);
  };
  const m1 = ceilTo(a, monthStart);
  const m2 = monthStart(b);
  if (m1 >= m2) {
    dekads(a, b);
    return out;
  }
  dekads(a, m1);
  const y1 = ceilTo(m1, yearStart);
  const y2 = yearStart(m2);
  if (y1 >= y2) push('m', m1, m2);
  else {
    push('m', m1, y1);
    push('y', y1, y2);
    push('m', y2, m2);
  }
  dekads(m2, b);
  return out;
}
