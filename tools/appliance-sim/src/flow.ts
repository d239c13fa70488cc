import { ApplianceClient } from './appliance-client';
import { ApplianceSite } from './site';

export interface FlowOptions {
  user: string;
  endpoint: string;
  /** Pick the credential whose name contains this text; the first one otherwise. */
  credential?: string;
  sessionId?: string;
  /** The Password Safe simulator's control URL and the chosen account's id there, to show the password really rotated. */
  simControlUrl?: string;
  simAccountId?: number;
  rotationTimeoutMs?: number;
  print?: (line: string) => void;
  /** The appliance's own side: the session is recorded there, so its reporting API reports it. */
  site?: ApplianceSite;
}

export interface FlowResult {
  /** The appliance session the flow ran in. */
  sessionId: string;
  leaseId: string;
  rotated: boolean;
  /** The lease's last state: `rotated`, `checked-in` (the vault rotates by its own setting, or not at all) or `failed`. */
  state: string;
  traceIds: Record<string, string>;
}

/**
 * What an appliance does around one session: list the user's credentials for the endpoint, inject one,
 * release it when the session ends, and watch the lease until the vault rotated the password.
 * Prints each step with its trace id; never the password.
 */
export async function runApplianceFlow(client: ApplianceClient, options: FlowOptions): Promise<FlowResult> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const traceIds: Record<string, string> = {};
  const sessionId = options.sessionId ?? (options.site ? ApplianceSite.newLsid() : `demo-${Date.now()}`);
  const now = () => Math.floor(Date.now() / 1000);
  options.site?.startSession({
    lsid: sessionId,
    startTime: now(),
    jumpGroup: { id: 1, name: 'Servers' },
    publicSite: { id: 1, name: 'Default' },
    jumpoint: 'default',
    hostname: options.endpoint,
    username: options.user,
  });

  const list = await client.listCredentials(options.user, options.endpoint, sessionId);
  traceIds['list'] = list.traceId;
  if (list.status !== 200) throw new Error(`list failed: ${list.status} ${JSON.stringify(list.body)}`);
  print(`1. list     ${options.user} on ${options.endpoint}: ${list.body.credentials.length} credential(s)  trace ${list.traceId}`);
  for (const c of list.body.credentials) print(`             - ${c.name} (${c.scope}, vault ${c.vault})`);
  const chosen = list.body.credentials.find((c) => !options.credential || c.name.includes(options.credential));
  if (!chosen) throw new Error('no credential to inject');

  const injected = await client.inject(chosen.id, options.user, options.endpoint, sessionId);
  traceIds['inject'] = injected.traceId;
  if (injected.status !== 201) throw new Error(`inject failed: ${injected.status} ${JSON.stringify(injected.body)}`);
  options.site?.addEvent(sessionId, { timestamp: now(), type: 'Credentials Used', performedByType: 'representative', performedBy: options.user, destination: options.endpoint, data: { credential: chosen.name } });
  const before = await accountState(options.simControlUrl, options.simAccountId);
  print(
    `2. inject   ${chosen.name}: lease ${injected.body.leaseId}, ${injected.body.secret.type} of ${injected.body.secret.value.length} characters injected (not shown), release at ${injected.body.releaseAt}  trace ${injected.traceId}`,
  );

  const released = await client.release(injected.body.leaseId);
  traceIds['release'] = released.traceId;
  if (released.status !== 200) throw new Error(`release failed: ${released.status} ${JSON.stringify(released.body)}`);
  options.site?.endSession(sessionId, now());
  print(`3. release  session ${sessionId} ended: rotation ${released.body.rotation}  trace ${released.traceId}`);

  const deadline = Date.now() + (options.rotationTimeoutMs ?? 30_000);
  let lease = await client.lease(injected.body.leaseId);
  while (!['rotated', 'checked-in', 'failed'].includes(lease.body.state) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    lease = await client.lease(injected.body.leaseId);
  }
  traceIds['lease'] = lease.traceId;
  const after = await accountState(options.simControlUrl, options.simAccountId);
  const proof =
    before && after ? `; the simulator counts ${after.rotations} rotation(s) of this account (was ${before.rotations})` : '';
  print(`4. rotate   lease ${lease.body.state}, rotation ${lease.body.rotation}${proof}  trace ${lease.traceId}`);
  return { sessionId, leaseId: injected.body.leaseId, rotated: lease.body.state === 'rotated', state: lease.body.state, traceIds };
}

/** The simulator's rotation count of an account (its control API; the password itself is never printed). */
async function accountState(controlUrl: string | undefined, accountId: number | undefined): Promise<{ rotations: number } | undefined> {
  if (!controlUrl || accountId === undefined) return undefined;
  const res = await fetch(`${controlUrl}/accounts/${accountId}`).catch(() => undefined);
  if (!res?.ok) return undefined;
  const body = (await res.json()) as { rotations?: number };
  return typeof body.rotations === 'number' ? { rotations: body.rotations } : undefined;
}
