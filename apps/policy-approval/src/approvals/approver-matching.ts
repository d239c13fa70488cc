/** An approver who approved, and the approver groups of the policy they belong to. */
export interface Approving {
  approver: string;
  groups: readonly string[];
}

/**
 * Which approvals count, and for which group. With one approver required, anyone eligible counts. With N > 1,
 * each counted approver stands for a different approver group: the largest such assignment (a bipartite
 * matching, found by augmenting paths), so an approver in two groups never blocks another who is in one of them.
 */
export function countedApprovers(approvals: readonly Approving[], required: number): Map<string, string> {
  const counted = new Map<string, string>();
  if (required <= 1) {
    const first = approvals.find((a) => a.groups.length > 0);
    if (first) counted.set(first.approver, first.groups[0] as string);
    return counted;
  }
  const holder = new Map<string, string>(); // group (lower case) -> approver
  const groupName = new Map<string, string>();
  const groupsOf = new Map(approvals.map((a) => [a.approver, a.groups.map((g) => g.toLowerCase())]));
  for (const a of approvals) for (const g of a.groups) groupName.set(g.toLowerCase(), g);

  const assign = (approver: string, seen: Set<string>): boolean => {
    for (const group of groupsOf.get(approver) ?? []) {
      if (seen.has(group)) continue;
      seen.add(group);
      const current = holder.get(group);
      if (current === undefined || assign(current, seen)) {
        holder.set(group, approver);
        return true;
      }
    }
    return false;
  };
  for (const a of approvals) assign(a.approver, new Set());
  for (const [group, approver] of holder) counted.set(approver, groupName.get(group) as string);
  return counted;
}
