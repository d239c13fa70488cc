import type { CollectedSpan } from '@openecm/testing';

/**
 * One request's trace as an indented timeline: where each span starts (ms after the first) and how long it
 * took, by service. The gap between a `send` span and its `process` span is the transport's share.
 */
export function traceBreakdown(spans: CollectedSpan[], hide = /middleware|request handler/): string[] {
  if (spans.length === 0) return [];
  const t0 = spans.reduce((min, s) => (s.startNs < min ? s.startNs : min), spans[0]!.startNs);
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string | undefined, CollectedSpan[]>();
  for (const s of spans) {
    const parent = s.parentSpanId && ids.has(s.parentSpanId) ? s.parentSpanId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const s of (children.get(parent) ?? []).sort((a, b) => Number(a.startNs - b.startNs))) {
      const visible = !hide.test(s.name);
      if (visible) {
        const at = (Number(s.startNs - t0) / 1e6).toFixed(1).padStart(6);
        const took = (Number(s.endNs - s.startNs) / 1e6).toFixed(1).padStart(5);
        lines.push(`${at} +${took} ms  ${'  '.repeat(depth)}${s.service}: ${s.name.replace(/pg\.query:(\w+) .*/, 'pg.query:$1')}`);
      }
      walk(s.spanId, visible ? depth + 1 : depth);
    }
  };
  walk(undefined, 0);
  return lines;
}
