const DAY = 86_400_000;

/** A half-open time range [from, to). */
export interface TimeRange {
  from: Date;
  to: Date;
}

/** Rollup buckets of one grain, first days (UTC) as YYYY-MM-DD, half-open [from, to). */
export interface BucketRange {
  grain: 'd' | 'm' | 'y';
  from: string;
  to: string;
}

/**
 * How a summary range is answered: its whole UTC days from the rollups (`days`, and the same days as the fewest
 * day, month and year buckets in `buckets`), the partial days at either end (`edges`) from the raw tables.
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
  return { edges, days: { from: ymd(a), to: ymd(b) }, buckets: buckets(a, b) };
}

/** Whole days [a, b) as leading days, leading months, whole years, trailing months, trailing days. */
function buckets(a: number, b: number): BucketRange[] {
  const out: BucketRange[] = [];
  const push = (grain: BucketRange['grain'], from: number, to: number) => {
    if (from < to) out.push({ grain, from: ymd(from), to: ymd(to) });
  };
  const m1 = ceilTo(a, monthStart);
  const m2 = monthStart(b);
  if (m1 >= m2) {
    push('d', a, b);
    return out;
  }
  push('d', a, m1);
  const y1 = ceilTo(m1, yearStart);
  const y2 = yearStart(m2);
  if (y1 >= y2) push('m', m1, m2);
  else {
    push('m', m1, y1);
    push('y', y1, y2);
    push('m', y2, m2);
  }
  push('d', m2, b);
  return out;
}
