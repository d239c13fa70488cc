import type { SweptCheckout } from '../credentials/checkout.repository';
import { ownership } from './checkout-sweep.service';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const GRACE_START = NOW - 120_000;
const OLD = new Date(NOW - 3_600_000);
const YOUNG = new Date(NOW - 10_000);

const row = (over: Partial<SweptCheckout>): SweptCheckout => ({
  leaseId: 'l',
  user: 'alice',
  ref: { systemId: 1, accountId: 1001, account: 'Administrator' },
  vaultRequest: undefined,
  state: 'out',
  createdAt: OLD,
  ...over,
});
const targetOf = (ref: SweptCheckout['ref']) => (typeof ref['systemId'] === 'number' ? `${ref['systemId']}:${ref['accountId']}` : undefined);
const item = (handle: string, target?: string) => ({ handle, ageMs: 3_600_000, target });

describe('who owns what the vault holds', () => {
  it('a handle a held lease records is owned, whichever of the leases sharing it is held (reuse)', () => {
    const rows = [row({ leaseId: 'a', vaultRequest: '101', state: 'in' }), row({ leaseId: 'b', vaultRequest: '101' })];
    expect(ownership(rows, new Set(['b']), GRACE_START, targetOf).owns(item('101'), 'alice')).toBe(true);
    // only the lease already checked in names it: nobody holds it
    expect(ownership(rows, new Set(['a']), GRACE_START, targetOf).owns(item('101'), 'alice')).toBe(false);
    expect(ownership(rows, new Set(), GRACE_START, targetOf).leasesOf('101')).toEqual(['a', 'b']);
  });

  it('a held check-out whose handle was never recorded owns what the same user holds of the same account', () => {
    const rows = [row({ leaseId: 'p', state: 'pending' })];
    const owners = ownership(rows, new Set(['p']), GRACE_START, targetOf);
    expect(owners.owns(item('555', '1:1001'), 'alice')).toBe(true);
    expect(owners.owns(item('555', '1:1001'), 'ALICE')).toBe(true);
    expect(owners.owns(item('556', '1:1001'), 'bob')).toBe(false);
    expect(owners.owns(item('557', '1:1002'), 'alice')).toBe(false);
    // the application signs in for every user: its requests of that account are owned whoever asked
    expect(owners.owns(item('558', '1:1001'), '*application*')).toBe(true);
    expect(ownership(rows, new Set(), GRACE_START, targetOf).owns(item('555', '1:1001'), 'alice')).toBe(false);
  });

  it('a record made inside the grace period protects its handle (a check-out in flight may reuse an old request) and its account', () => {
    const rows = [row({ leaseId: 'y', vaultRequest: '101', createdAt: YOUNG }), row({ leaseId: 'z', state: 'pending', createdAt: YOUNG, ref: { systemId: 2, accountId: 2001 } })];
    const owners = ownership(rows, new Set(), GRACE_START, targetOf);
    expect(owners.isYoung('101')).toBe(true);
    expect(owners.owns(item('700', '2:2001'), 'alice')).toBe(true);
    expect(owners.isYoung('102')).toBe(false);
    expect(owners.isRecorded('101')).toBe(true);
    expect(owners.isRecorded('102')).toBe(false);
  });

  it('a record already checked in protects nothing, however young (a reclaimed check-out leaves one without a handle)', () => {
    const rows = [row({ leaseId: 'r', state: 'in', createdAt: YOUNG }), row({ leaseId: 's', vaultRequest: '101', state: 'in', createdAt: YOUNG })];
    const owners = ownership(rows, new Set(['r', 's']), GRACE_START, targetOf);
    expect(owners.owns(item('800', '1:1001'), 'alice')).toBe(false);
    expect(owners.owns(item('101'), 'alice')).toBe(false);
    expect(owners.isYoung('101')).toBe(false);
    expect(owners.isRecorded('101')).toBe(true);
  });
});
