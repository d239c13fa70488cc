import { AccessPolicyDefinition } from '@openecm/contracts';
import { decide, emergencyPolicy, globMatch, inScope, nextOpeningOf, type HeldPolicy } from './policy-engine';

const policy = (name: string, definition: unknown, group = 'Requesters'): HeldPolicy => ({ name, group, definition: AccessPolicyDefinition.parse(definition) });
const target = { vault: 'ps', name: 'srv-app01\\Administrator', endpoint: 'srv-app01.corp.example' };
// a Monday, 10:00 in Berlin
const monday10 = new Date('2026-11-23T09:00:00Z');

describe('the policy engine', () => {
  it('matches globs whole and without regard to case', () => {
    expect(globMatch('srv-*.corp.example', 'SRV-app01.corp.example')).toBe(true);
    expect(globMatch('srv-*.corp.example', 'srv-app01.corp.example.evil')).toBe(false);
    expect(globMatch('srv-app0?', 'srv-app01')).toBe(true);
    expect(globMatch('srv.app01', 'srvxapp01')).toBe(false);
  });

  it('narrows by vault, endpoint and account name', () => {
    expect(inScope(AccessPolicyDefinition.parse({ scope: { vaults: ['ss'] } }), target)).toBe(false);
    expect(inScope(AccessPolicyDefinition.parse({ scope: { endpoints: ['db-*'] } }), target)).toBe(false);
    expect(inScope(AccessPolicyDefinition.parse({ scope: { accounts: ['*\\Administrator'] } }), target)).toBe(true);
    expect(inScope(AccessPolicyDefinition.parse({ scope: { vaults: ['ps'], endpoints: ['srv-*'], accounts: ['*\\svc-*'] } }), target)).toBe(false);
  });

  it('lets the most permissive policy in its window decide: auto over manual, fewer approvers over more', () => {
    const twoOfThree = policy('two', { approval: { mode: 'manual', approverGroups: ['A', 'B', 'C'], required: 2 } });
    const one = policy('one', { approval: { mode: 'manual', approverGroups: ['A'] } });
    const auto = policy('auto', { schedule: { timeZone: 'Europe/Berlin', windows: [{ days: ['mon'], from: '08:00', to: '18:00' }] } });
    expect(decide([twoOfThree, one, auto], target, monday10)).toMatchObject({ mode: 'auto', policy: { name: 'auto' } });
    // after 18:00 in Berlin the auto policy is out of its window: the one-approver policy decides
    expect(decide([twoOfThree, one, auto], target, new Date('2026-11-23T17:30:00Z'))).toMatchObject({ mode: 'manual', policy: { name: 'one' } });
    expect(decide([twoOfThree], target, monday10)).toMatchObject({ policy: { name: 'two' } });
  });

  it('prefers, among equals, the policy that asks less: not exclusive, no reason, then the longer release', () => {
    const exclusive = policy('a-exclusive', { exclusive: true });
    const reason = policy('b-reason', { requireReason: true });
    const short = policy('c-short', { maxReleaseMinutes: 10 });
    const long = policy('d-long', { maxReleaseMinutes: 60 });
    expect(decide([exclusive, reason, short, long], target, monday10)?.policy.name).toBe('d-long');
    expect(decide([exclusive, reason], target, monday10)?.policy.name).toBe('b-reason');
  });

  it('ignores a policy whose scope does not cover the credential', () => {
    const other = policy('other', { scope: { accounts: ['*\\svc-*'] } });
    expect(decide([other], target, monday10)).toBeUndefined();
  });

  it('grants emergency access outside the window, within the dates and the scope, only where allowed', () => {
    const office = { timeZone: 'Europe/Berlin', windows: [{ days: ['mon'], from: '08:00', to: '09:00' }] };
    const breakGlass = policy('break-glass', { schedule: office, emergency: { allowed: true } });
    const plain = policy('plain', { schedule: office });
    expect(decide([breakGlass, plain], target, monday10)).toBeUndefined();
    expect(emergencyPolicy([breakGlass, plain], target, monday10)?.name).toBe('break-glass');
    expect(emergencyPolicy([plain], target, monday10)).toBeUndefined();
    const ended = policy('ended', { schedule: { ...office, endsAt: '2026-01-01' }, emergency: { allowed: true } });
    expect(emergencyPolicy([ended], target, monday10)).toBeUndefined();
  });

  it('names the earliest next opening of the policies that could cover the credential', () => {
    const tuesday = policy('tue', { schedule: { timeZone: 'Europe/Berlin', windows: [{ days: ['tue'], from: '08:00', to: '18:00' }] } });
    const wednesday = policy('wed', { schedule: { timeZone: 'UTC', windows: [{ days: ['wed'], from: '00:00', to: '01:00' }] } });
    const elsewhere = policy('elsewhere', { schedule: { timeZone: 'UTC', windows: [{ days: ['mon'], from: '11:00', to: '12:00' }] }, scope: { vaults: ['ss'] } });
    expect(nextOpeningOf([wednesday, tuesday, elsewhere], monday10, target)?.toISOString()).toBe('2026-11-24T07:00:00.000Z');
    // without a credential in view, any policy's opening counts
    expect(nextOpeningOf([wednesday, tuesday, elsewhere], monday10)?.toISOString()).toBe('2026-11-23T11:00:00.000Z');
  });
});

describe('the policy document', () => {
  it('names the field of a bad schedule or approval rule', () => {
    const bad = AccessPolicyDefinition.safeParse({
      schedule: { timeZone: 'Mars/Olympus', windows: [{ days: ['mon', 'mon'], from: '25:00', to: '18:00' }] },
      approval: { mode: 'manual', approverGroups: ['A', 'a'], required: 2 },
    });
    expect(bad.success).toBe(false);
    const paths = bad.error?.issues.map((i) => i.path.join('.')).sort();
    expect(paths).toEqual(['approval.required', 'schedule.timeZone', 'schedule.windows.0.days', 'schedule.windows.0.from']);
  });

  it('refuses a window that starts where it ends, and an end before the start', () => {
    expect(AccessPolicyDefinition.safeParse({ schedule: { timeZone: 'UTC', windows: [{ days: ['mon'], from: '08:00', to: '08:00' }] } }).error?.issues[0]?.path).toEqual(['schedule', 'windows', 0, 'to']);
    expect(AccessPolicyDefinition.safeParse({ schedule: { timeZone: 'UTC', startsAt: '2027-01-02', endsAt: '2027-01-01' } }).error?.issues[0]?.path).toEqual(['schedule', 'endsAt']);
  });

  it('fills in what Password Safe calls the default: all day, auto-approved', () => {
    expect(AccessPolicyDefinition.parse({})).toEqual({ schedule: { timeZone: 'UTC', windows: [] }, approval: { mode: 'auto' }, requireReason: false, exclusive: false, emergency: { allowed: false } });
  });
});
