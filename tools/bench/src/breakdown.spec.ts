import type { CollectedSpan } from '@openecm/testing';
import { traceBreakdown } from './breakdown';

const span = (spanId: string, parentSpanId: string | undefined, name: string, startMs: number, endMs: number): CollectedSpan => ({
  service: 'svc',
  traceId: 't',
  spanId,
  parentSpanId,
  name,
  kind: 0,
  startNs: BigInt(startMs * 1e6),
  endNs: BigInt(endMs * 1e6),
  attributes: {},
});

describe('traceBreakdown', () => {
  it('indents children under parents in start order, skipping framework noise but keeping its children', () => {
    const lines = traceBreakdown([
      span('b', 'a', 'middleware - jsonParser', 1, 2),
      span('c', 'b', 'pg.query:SELECT mydb', 1.5, 1.9),
      span('a', undefined, 'GET /x', 0, 10),
      span('d', 'a', 'late', 5, 6),
    ]);
    expect(lines).toEqual([
      '   0.0 + 10.0 ms  svc: GET /x',
      '   1.5 +  0.4 ms    svc: pg.query:SELECT',
      '   5.0 +  1.0 ms    svc: late',
    ]);
  });
});
