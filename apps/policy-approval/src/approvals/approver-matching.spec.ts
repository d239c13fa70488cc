import { countedApprovers } from './approver-matching';

describe('counting approvers', () => {
  it('counts the first eligible approver when one is required', () => {
    const counted = countedApprovers([{ approver: 'bob', groups: ['Ops', 'Sec'] }], 1);
    expect([...counted]).toEqual([['bob', 'Ops']]);
  });

  it('counts two approvers of one group once when each must stand for a different group', () => {
    const counted = countedApprovers(
      [
        { approver: 'bob', groups: ['Ops'] },
        { approver: 'carol', groups: ['Ops'] },
      ],
      2,
    );
    expect(counted.size).toBe(1);
  });

  it('moves an approver who is in two groups so that a later one of those groups counts too', () => {
    const counted = countedApprovers(
      [
        { approver: 'bob', groups: ['Ops', 'Sec'] },
        { approver: 'carol', groups: ['Ops'] },
      ],
      2,
    );
    expect(Object.fromEntries(counted)).toEqual({ bob: 'Sec', carol: 'Ops' });
  });

  it('compares group names without regard to case', () => {
    const counted = countedApprovers(
      [
        { approver: 'bob', groups: ['ops'] },
        { approver: 'carol', groups: ['OPS'] },
      ],
      2,
    );
    expect(counted.size).toBe(1);
  });

  it('counts three approvers of three groups for a 3-of-3 policy', () => {
    const counted = countedApprovers(
      [
        { approver: 'a', groups: ['G1', 'G2', 'G3'] },
        { approver: 'b', groups: ['G1', 'G2'] },
        { approver: 'c', groups: ['G1'] },
      ],
      3,
    );
    expect(Object.fromEntries(counted)).toEqual({ a: 'G3', b: 'G2', c: 'G1' });
  });
});
