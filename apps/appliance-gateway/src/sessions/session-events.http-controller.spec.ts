import { INGEST_SLICE_BYTES, slices } from './session-events.http-controller';

describe("slicing an appliance's batch for the bus", () => {
  it('keeps every slice under the bound and every event at its index', () => {
    const big = 'x'.repeat(40_000);
    const events = Array.from({ length: 30 }, (_, i) => ({ i, data: { v: big } }));
    const out = slices(events);
    expect(out.length).toBeGreaterThan(1);
    expect(out.flatMap((s) => s.events)).toEqual(events);
    for (const s of out) {
      expect(Buffer.byteLength(JSON.stringify(s.events))).toBeLessThanOrEqual(INGEST_SLICE_BYTES + 1024);
      expect(s.events[0]).toBe(events[s.offset]);
    }
  });

  it('sends a small batch as one slice, and an event larger than the bound alone', () => {
    expect(slices([{ a: 1 }, { b: 2 }])).toEqual([{ offset: 0, events: [{ a: 1 }, { b: 2 }] }]);
    const huge = { v: 'y'.repeat(INGEST_SLICE_BYTES + 10) };
    expect(slices([{ a: 1 }, huge, { b: 2 }]).map((s) => s.offset)).toEqual([0, 1, 2]);
  });
});
