/** Percentiles by nearest rank over recorded latencies (ms). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  // the epsilon keeps 99.9% of 1000 at rank 999 despite binary floating point
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p * sorted.length) / 100 - 1e-9) - 1));
  return sorted[rank] as number;
}

export interface Summary {
  count: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export function summarise(latencies: number[], errors: number): Summary {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    count: latencies.length,
    errors,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/**
 * Fires `op` at a constant rate for `seconds`, without waiting for earlier calls (open loop). Latency is
 * measured from the moment a call was due, so a stalled system cannot hide its queueing delay.
 */
export async function constantRate(rate: number, seconds: number, op: () => Promise<boolean>): Promise<Summary> {
  const latencies: number[] = [];
  let errors = 0;
  const total = Math.round(rate * seconds);
  const start = performance.now() + 20;
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      op().then(
        (ok) => {
          if (ok) latencies.push(performance.now() - due);
          else errors += 1;
        },
        () => {
          errors += 1;
        },
      ),
    );
  }
  await Promise.all(pending);
  return summarise(latencies, errors);
}

/**
 * Keeps `concurrency` calls of `op` in flight for `seconds` (closed loop): the rate it reaches is the most the
 * system gives at that concurrency, and the latencies are what a caller sees there.
 */
export async function closedLoop(concurrency: number, seconds: number, op: () => Promise<boolean>): Promise<{ rate: number; summary: Summary }> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const at = performance.now();
      const ok = await op().catch(() => false);
      if (ok) latencies.push(performance.now() - at);
      else errors += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  return { rate: latencies.length / elapsed, summary: summarise(latencies, errors) };
}

/**
 * What tracing costs round by round: each round's traced maximum against the untraced one run next to it, as a
 * fraction of the untraced. Pairing the rounds takes the machine's drift between rounds out of each figure.
 */
export function pairedPrices(traced: number[], untraced: number[]): { each: number[]; median: number } {
  const each = traced.slice(0, untraced.length).map((on, i) => {
    const off = untraced[i] as number;
    return off > 0 ? (off - on) / off : Number.NaN;
  });
  const sorted = each.filter(Number.isFinite).sort((a, b) => a - b);
  return { each, median: sorted.length ? (sorted[Math.floor((sorted.length - 1) / 2)]! + sorted[Math.ceil((sorted.length - 1) / 2)]!) / 2 : Number.NaN };
}
