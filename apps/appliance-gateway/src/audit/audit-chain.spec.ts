import { randomBytes } from 'node:crypto';
import { ChainKeys, ChainWalker, canonicalJson, type ChainLink, type ChainedFields } from './audit-chain';

const keys = ChainKeys.parse(`k2:${randomBytes(32).toString('base64')},k1:${randomBytes(32).toString('base64')}`);

const record = (seq: number): ChainedFields => ({
  seq: String(seq),
  at: '2030-01-01T00:00:00.000Z',
  kind: 'injection',
  actor: 'appliance',
  user: 'CORP\\alice',
  endpoint: 'srv-app01',
  vault: null,
  credential: 'Administrator',
  leaseId: `lease-${seq}`,
  outcome: 'ok',
  traceId: null,
  details: { b: 1, a: { d: [1, 2], c: 'x' } },
});

/** Links records as the chainer does, with the active key. */
function chain(records: ChainedFields[]): ChainLink[] {
  let prev = '';
  return records.map((r, i) => {
    const hmac = keys.link(keys.activeId, prev, r);
    const link = { record: r, position: String(i + 1), keyId: keys.activeId, prevHmac: prev, hmac };
    prev = hmac;
    return link;
  });
}

const walk = (links: ChainLink[]) => {
  const walker = new ChainWalker(keys);
  for (const link of links) {
    const problem = walker.next(link);
    if (problem) return problem;
  }
  return { checked: walker.checked };
};

describe('the audit chain', () => {
  it('writes the same canonical JSON whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: 'x' } })).toBe(canonicalJson({ a: { c: 'x', d: [1, { y: 2, z: 1 }] }, b: 1 }));
    expect(canonicalJson({ a: undefined, b: null })).toBe('{"b":null}');
  });

  it('verifies an intact chain, linked with the active (first) key', () => {
    expect(keys.activeId).toBe('k2');
    expect(walk(chain([record(1), record(2), record(4)]))).toEqual({ checked: 3 });
  });

  it('names a changed record, a removed one and two swapped ones', () => {
    const links = chain([record(1), record(2), record(3), record(4)]);
    const changed = links.map((l, i) => (i === 2 ? { ...l, record: { ...l.record, outcome: 'ok ' } } : l));
    expect(walk(changed)).toEqual(expect.objectContaining({ problem: 'changed', seq: '3', position: '3' }));

    expect(walk(links.filter((_, i) => i !== 1))).toEqual(expect.objectContaining({ problem: 'removed', seq: '3', position: '3' }));

    const [a, b, c, d] = links as [ChainLink, ChainLink, ChainLink, ChainLink];
    const swapped = [a, { ...c, position: '2' }, { ...b, position: '3' }, d];
    expect(walk(swapped)).toEqual(expect.objectContaining({ problem: 'reordered', seq: '3', position: '2' }));
  });

  it('names a record linked with a key no longer configured', () => {
    const links = chain([record(1)]).map((l) => ({ ...l, keyId: 'k0' }));
    expect(walk(links)).toEqual(expect.objectContaining({ problem: 'unknown-key', seq: '1' }));
  });

  it('refuses a forged link made without the key', () => {
    const other = ChainKeys.parse(`k2:${randomBytes(32).toString('base64')}`);
    const forged = { record: record(1), position: '1', keyId: 'k2', prevHmac: '', hmac: other.link('k2', '', record(1)) };
    expect(walk([forged])).toEqual(expect.objectContaining({ problem: 'changed' }));
  });
});
