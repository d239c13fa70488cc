import { SEAL_CONTEXTS, Secret, type ReplyOf, type RequestOf, type SealedBox } from '@openecm/contracts';
import { SealingKeyPair, sealTo, type SealContext } from '@openecm/crypto';
import type { Bus } from '@openecm/messaging';

/** Seals a value to vault-adapters' published key, as the gateway does, for tests that call vault-adapters directly. */
export async function sealedForVaultAdapters(bus: Bus, value: unknown, context: SealContext): Promise<SealedBox> {
  return sealTo(await bus.request('vault.sealing-key.get.v1', {}), value, context);
}

/** A check-out as the gateway's key pair would receive it, opened: the secret, or a failure to open it. */
export async function checkoutOpened(bus: Bus, request: Omit<RequestOf<'vault.credentials.checkout.v1'>, 'sealTo'>) {
  const keys = await SealingKeyPair.generate();
  const out = await bus.request('vault.credentials.checkout.v1', { ...request, sealTo: keys.publicKey });
  const secret = Secret.parse(await keys.open(out.secret, SEAL_CONTEXTS.checkoutSecret(request.leaseId)));
  return { ...out, secret, sealed: out.secret };
}

type LeaseOpened = Extract<ReplyOf<'policy.lease.open.v1'>, { leaseId: string }>;

/** policy.lease.open.v1 where the policy grants at once: the lease, or a failed test when an approval was asked instead. */
export async function openLease(bus: Bus, request: RequestOf<'policy.lease.open.v1'>): Promise<LeaseOpened> {
  const reply = await bus.request('policy.lease.open.v1', request);
  if (!('leaseId' in reply)) throw new Error(`expected a lease, got approval request ${reply.approvalId} (${reply.policy})`);
  return reply;
}
