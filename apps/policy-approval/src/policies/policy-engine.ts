import type { AccessPolicyDefinition } from '@openecm/contracts';
import { isOpen, nextOpening, type PolicySchedule } from './schedule';

/** A policy a user holds through one of their requester groups. */
export interface HeldPolicy {
  name: string;
  group: string;
  definition: AccessPolicyDefinition;
}

/** What is asked for: a credential by its vault and name, on an endpoint. */
export interface Target {
  vault: string;
  name: string;
  endpoint: string;
}

export interface Grant {
  policy: HeldPolicy;
  mode: 'auto' | 'manual';
}

const globs = new Map<string, RegExp>();

/** `*` any run of characters, `?` one; whole-string and case-insensitive, as host and account names compare. */
export function globMatch(glob: string, value: string): boolean {
  let re = globs.get(glob);
  if (!re) {
    const body = [...glob].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
    re = new RegExp(`^${body}$`, 'iu');
    if (globs.size > 10_000) globs.clear();
    globs.set(glob, re);
  }
  return re.test(value);
}

/** Whether a policy's scope covers the target (a policy without a scope covers everything). */
export function inScope(definition: AccessPolicyDefinition, target: Target): boolean {
  const scope = definition.scope;
  if (!scope) return true;
  if (scope.vaults && !scope.vaults.includes(target.vault)) return false;
  if (scope.endpoints && !scope.endpoints.some((g) => globMatch(g, target.endpoint))) return false;
  if (scope.accounts && !scope.accounts.some((g) => globMatch(g, target.name))) return false;
  return true;
}

/** Whether a policy's scope can cover anything on this endpoint (the endpoint part of the scope only). */
export function coversEndpoint(definition: AccessPolicyDefinition, endpoint: string): boolean {
  const globsOfEndpoint = definition.scope?.endpoints;
  return !globsOfEndpoint || globsOfEndpoint.some((g) => globMatch(g, endpoint));
}

function schedule(definition: AccessPolicyDefinition): PolicySchedule {
  return definition.schedule as PolicySchedule;
}

export function openNow(definition: AccessPolicyDefinition, at: Date): boolean {
  return isOpen(schedule(definition), at);
}

/** Within its start and end dates, whatever the time of day: where emergency access may apply. */
function inEffect(definition: AccessPolicyDefinition, at: Date): boolean {
  return isOpen({ ...schedule(definition), windows: [] }, at);
}

/**
 * How permissive a policy is, lower first: auto before manual, fewer approvers before more, then the one that
 * asks less of the user (not exclusive, no reason), then the longer release, then the name (a stable answer).
 */
function rank(p: HeldPolicy): Array<number | string> {
  const d = p.definition;
  return [
    d.approval.mode === 'auto' ? 0 : 1,
    d.approval.mode === 'manual' ? d.approval.required : 0,
    d.exclusive ? 1 : 0,
    d.requireReason ? 1 : 0,
    -(d.maxReleaseMinutes ?? Number.MAX_SAFE_INTEGER),
    p.name.toLowerCase(),
  ];
}

function compare(a: HeldPolicy, b: HeldPolicy): number {
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < ra.length; i++) {
    const x = ra[i] as number | string;
    const y = rb[i] as number | string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** The most permissive of the policies that cover the target and are in their window now; undefined when none is. */
export function decide(policies: readonly HeldPolicy[], target: Target, at: Date): Grant | undefined {
  let best: HeldPolicy | undefined;
  for (const p of policies) {
    if (!inScope(p.definition, target) || !openNow(p.definition, at)) continue;
    if (!best || compare(p, best) < 0) best = p;
  }
  return best ? { policy: best, mode: best.definition.approval.mode } : undefined;
}

/** The policy that grants emergency access to the target: in effect (any hour), in scope, allowing it. */
export function emergencyPolicy(policies: readonly HeldPolicy[], target: Target, at: Date): HeldPolicy | undefined {
  return policies
    .filter((p) => p.definition.emergency.allowed && inScope(p.definition, target) && inEffect(p.definition, at))
    .sort(compare)[0];
}

/** The earliest time one of the policies (of those that may cover the target) opens; null when none will. */
export function nextOpeningOf(policies: readonly HeldPolicy[], at: Date, target?: Target): Date | null {
  let earliest: Date | null = null;
  for (const p of policies) {
    if (target && !inScope(p.definition, target)) continue;
    const opens = nextOpening(schedule(p.definition), at);
    if (opens && (!earliest || opens < earliest)) earliest = opens;
  }
  return earliest;
}
