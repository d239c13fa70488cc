/**
 * The policy check alone, for `npm run bench -- --policies`: the decision the list handler makes for each of a
 * list's three credentials, over 100 policies a user holds (whole-day windows in five time zones, globs on
 * endpoints and accounts, a fifth manual, some exclusive or asking a reason: the bench's own mix). Prints the
 * p50 and p99 of 18,000 timed lists (after 2,000 warm-up runs) as JSON.
 */
import { AccessPolicyDefinition } from '@openecm/contracts';
import { decide, type HeldPolicy } from '../src/policies/policy-engine';

const ZONES = ['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'UTC', 'Australia/Sydney'];
const held: HeldPolicy[] = Array.from({ length: 100 }, (_, n) => {
  const i = n * 10;
  const definition = AccessPolicyDefinition.parse({
    schedule: { timeZone: ZONES[i % ZONES.length], windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00' }] },
    approval: i % 5 === 0 ? { mode: 'manual', approverGroups: ['Bench approvers'], required: 1 } : { mode: 'auto' },
    exclusive: i % 7 === 0,
    requireReason: i % 11 === 0,
    scope: i % 3 === 0 ? { endpoints: [`srv-app${i % 10}*`, 'srv-*.corp.example'], accounts: ['*\\Administrator', `*\\svc-${i}`] } : { accounts: [`*\\bench-${i}-*`] },
  });
  return { name: `bench-${i}`, group: `bench-group-${n}`, definition };
});
const targets = ['srv-app01\\Administrator', 'srv-app01\\svc-backup', 'CORP\\pra-admin'].map((name) => ({ vault: 'password-safe', name, endpoint: 'srv-app01' }));
const times: number[] = [];
for (let run = 0; run < 20_000; run++) {
  const at = new Date();
  const started = performance.now();
  for (const target of targets) decide(held, target, at);
  if (run >= 2_000) times.push(performance.now() - started);
}
times.sort((a, b) => a - b);
const at = (p: number) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)] as number;
process.stdout.write(JSON.stringify({ count: times.length, errors: 0, p50: at(50), p95: at(95), p99: at(99), p999: at(99.9), max: times[times.length - 1] }));
